"""The ``headrace_meta`` schema, described once in portable types and written in each dialect.

- ``task_runs``: one row per task run (status, rows, bytes, duration, error);
- ``table_loads``: one row per loaded table, written in the load's own transaction;
- ``state``: incremental cursors by key, committed with the load that read up to them;
- ``working_schemas``: the working schemas of running transformations and when each
  expires, so a sweep tells a live task's schema from one a killed task left;
- ``sandboxes``: analysts' sandboxes and when each was last used (``headrace sandbox sweep``);

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
    "working_schemas": (
        ("schema_name", "string", "PRIMARY KEY"),
        ("run_id", "string", ""),
        ("task_id", "string", ""),
        ("owner", "string", ""),
        ("created_at", "timestamp_tz", ""),
        ("expires_at", "timestamp_tz", ""),
    ),
}
# on warehouses with sandboxes (capabilities.sandboxes) only; their passwords are in the secret store
SANDBOX_TABLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "sandboxes": (
        ("name", "string", "PRIMARY KEY"),
        ("user_name", "string", ""),
        ("transformation", "string", ""),
        ("created_at", "timestamp_tz", ""),
        ("last_used_at", "timestamp_tz", ""),
    ),
}


def tables(roles: bool, sandboxes: bool = False) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """The tables of ``headrace_meta`` (the same with or without logins; ``sandboxes`` adds their registry)."""
    return {**TABLES, **SANDBOX_TABLES} if sandboxes else TABLES


def ddl(dialect: str, roles: bool, sandboxes: bool = False) -> list[str]:
    """Statements creating what is missing of ``headrace_meta`` (safe to run again)."""
    statements = [f"CREATE SCHEMA IF NOT EXISTS {META}"]
    for table, columns in tables(roles, sandboxes).items():
        cols = ", ".join(
            f"{ident(name, dialect)} {sql_type(kind, dialect)} {extra}".strip() for name, kind, extra in columns
        )
        statements.append(f"CREATE TABLE IF NOT EXISTS {META}.{table} ({cols})")
    if roles:  # other logins (datamart readers, transformation roles) never see the run history
        statements.append(f"REVOKE ALL ON SCHEMA {META} FROM PUBLIC")
    return statements


def missing_sql(roles: bool, param: str, sandboxes: bool = False) -> tuple[str, list[str]]:
    """A count of the tables of ``headrace_meta`` that exist (all of them: nothing is missing)."""
    names = [META, *tables(roles, sandboxes)]
    marks = ", ".join(param for _ in names[1:])
    sql = f"SELECT count(*) FROM information_schema.tables WHERE table_schema = {param} AND table_name IN ({marks})"
    return sql, names
