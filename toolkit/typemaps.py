"""Portable types (``headrace.types``) in each SQL dialect's DDL: shared by warehouses and extractors.

The file extractor casts with DuckDB's types, the PostgreSQL warehouse creates tables with
PostgreSQL's; both read the maps here, so a type means the same everywhere.
"""

from __future__ import annotations

from headrace.types import parse_type

DUCKDB = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp_tz": "TIMESTAMPTZ",
    "json": "JSON",
    "bytes": "BLOB",
}
POSTGRES = {
    "string": "text",
    "integer": "bigint",
    "float": "double precision",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_tz": "timestamptz",
    "json": "jsonb",
    "bytes": "bytea",
}


def duckdb_type(portable: str) -> str:
    t = parse_type(portable)
    return f"DECIMAL({t.precision},{t.scale})" if t.name == "decimal" else DUCKDB[t.name]


def pg_type(portable: str) -> str:
    t = parse_type(portable)
    return f"numeric({t.precision},{t.scale})" if t.name == "decimal" else POSTGRES[t.name]


def pg_format_name(portable: str) -> str:
    """The type as PostgreSQL's ``format_type()`` prints it, e.g. ``timestamp with time zone``."""
    spelled = {"timestamp": "timestamp without time zone", "timestamp_tz": "timestamp with time zone"}
    return spelled.get(portable, pg_type(portable))
