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


# sqlglot base types -> portable types, for tables read back out of a warehouse (``export_table``)
_PORTABLE = {
    "integer": ("TINYINT", "SMALLINT", "INT", "BIGINT", "UTINYINT", "USMALLINT", "UINT", "SERIAL", "BIGSERIAL"),
    "float": ("FLOAT", "DOUBLE"),
    "boolean": ("BOOLEAN",),
    "date": ("DATE",),
    "timestamp": ("TIMESTAMP", "DATETIME", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMPNTZ"),
    "timestamp_tz": ("TIMESTAMPTZ", "TIMESTAMPLTZ"),
    "json": ("JSON", "JSONB"),
    "bytes": ("BLOB", "VARBINARY", "BINARY", "LONGBLOB"),
}


def portable_type(sql: str, dialect: str) -> str:
    """The portable type of a warehouse column type (``numeric(12,2)`` -> ``decimal(12,2)``).

    Types without a portable equivalent (UUID, intervals, a ``numeric`` without precision, lists)
    are ``string``: their text survives every hop, where a guessed type could lose values.
    """
    from sqlglot import exp

    try:
        built = exp.DataType.build(sql, dialect=dialect)
    except Exception:  # a type sqlglot does not know: its text is still a value
        return "string"
    name = built.this.name
    if name in ("DECIMAL", "NUMERIC", "BIGDECIMAL") and len(built.expressions) == 2:
        precision, scale = (int(e.sql()) for e in built.expressions)
        return f"decimal({precision},{scale})" if 1 <= precision <= 38 else "string"
    for portable, names in _PORTABLE.items():
        if name in names:
            return portable
    return "string"
