"""Portable types (``headrace.types``) in each SQL dialect's DDL: shared by warehouses and extractors.

The file extractor casts with DuckDB's types, the warehouses create tables with their
dialect's; all read the maps here, so a type means the same everywhere.
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
# Snowflake: integers are NUMBER(38,0) (BIGINT is its alias); TIMESTAMP_NTZ keeps a timestamp
# without a zone whatever TIMESTAMP_TYPE_MAPPING says; JSON is VARIANT
SNOWFLAKE = {
    "string": "VARCHAR",
    "integer": "NUMBER(38,0)",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP_NTZ(9)",
    "timestamp_tz": "TIMESTAMP_TZ(9)",
    "json": "VARIANT",
    "bytes": "BINARY",
}
# BigQuery: ``timestamp`` (no zone) is DATETIME, ``timestamp_tz`` an instant (TIMESTAMP)
BIGQUERY = {
    "string": "STRING",
    "integer": "INT64",
    "float": "FLOAT64",
    "boolean": "BOOL",
    "date": "DATE",
    "timestamp": "DATETIME",
    "timestamp_tz": "TIMESTAMP",
    "json": "JSON",
    "bytes": "BYTES",
}
# sqlglot dialect -> (simple types, decimal(p,s) template)
MAPS = {
    "duckdb": (DUCKDB, "DECIMAL({p},{s})"),
    "postgres": (POSTGRES, "numeric({p},{s})"),
    "snowflake": (SNOWFLAKE, "NUMBER({p},{s})"),
    "bigquery": (BIGQUERY, "NUMERIC"),
}


def duckdb_type(portable: str) -> str:
    return sql_type(portable, "duckdb")


def pg_type(portable: str) -> str:
    return sql_type(portable, "postgres")


def sql_type(portable: str, dialect: str) -> str:
    """The DDL type of a portable type in a warehouse's dialect, e.g. ``numeric(12,2)``."""
    names, decimal = MAPS[dialect]
    t = parse_type(portable)
    scale, digits = t.scale or 0, (t.precision or 0) - (t.scale or 0)
    if t.name == "decimal" and dialect == "bigquery" and (scale > 9 or digits > 29):
        # NUMERIC holds 29 digits before and 9 after the point. BigQuery's columns stay unparameterised:
        # a load rounds each value to the scale and refuses one that does not fit decimal(p,s)
        decimal = "BIGNUMERIC"
    return decimal.format(p=t.precision, s=t.scale) if t.name == "decimal" else names[t.name]
