"""The ``headrace_meta`` schema, described once in portable types and written in each dialect.

- ``task_runs``: one row per task run (status, rows, bytes, duration, error);
- ``table_loads``: one row per loaded table, written in the load's own transaction;
- ``state``: incremental cursors by key, committed with the load that read up to them;

Generated credentials (datamart reader passwords) are never kept here: they live in the
secret store (``headrace.secretstore``). Warehouses with logins revoke the schema from
``PUBLIC``, so reader logins see none of it.
"""

from __future__ import annotations

from headrace.sqltext import ident
from headrace.typemaps import sql_type
from headrace.warehouses.base import META

# table -> (column, portable type, constraint)
TABLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "task_runs": (
        ("run_id", "string", ""),
        ("task_id", "string", ""),
        ("status", "string", ""),
        ("started_at", "timestamp_tz", ""),
        ("ended_at", "timestamp_tz", ""),
        ("duration_s", "float", ""),
        ("rows", "integer", ""),
        ("bytes", "integer", ""),
        ("error", "string", ""),
    ),
    "table_loads": (
        ("run_id", "string", ""),
        ("table_name", "string", ""),
        ("mode", "string", ""),
        ("rows", "integer", ""),
        ("bytes", "integer", ""),
        ("loaded_at", "timestamp_tz", ""),
    ),
    "state": (("key", "string", "PRIMARY KEY"), ("value", "json", ""), ("updated_at", "timestamp_tz", "")),
}


def tables(roles: bool) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """The tables of ``headrace_meta`` (the same with or without logins)."""
    return TABLES


def ddl(dialect: str, roles: bool) -> list[str]:
    """Statements creating what is missing of ``headrace_meta`` (safe to run again)."""
    statements = [f"CREATE SCHEMA IF NOT EXISTS {META}"]
    for table, columns in tables(roles).items():
        cols = ", ".join(
            f"{ident(name, dialect)} {sql_type(kind, dialect)} {extra}".strip() for name, kind, extra in columns
        )
        statements.append(f"CREATE TABLE IF NOT EXISTS {META}.{table} ({cols})")
    if roles:  # other logins (datamart readers, transformation roles) never see the run history
        statements.append(f"REVOKE ALL ON SCHEMA {META} FROM PUBLIC")
    return statements


def last_table(roles: bool) -> str:
    """The table created last: when it exists, nothing is missing."""
    return list(tables(roles))[-1]
