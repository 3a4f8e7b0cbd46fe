"""Incremental windows: which rows a run reads and the cursor it leaves behind.

The stored state is ``{"column": ..., "value": <text>, "type": <SQL type>}``: the
cursor's maximum as PostgreSQL prints it (UTC for ``timestamptz``, the session runs in
UTC), so it compares exactly on the next run. A run reads ``cursor > stored - lookback``;
the new maximum is read in the same snapshot as the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from headrace.errors import TaskFailed
from headrace.extractors.postgres.catalog import DIALECT, SourceColumn
from headrace.extractors.postgres.config import PostgresTable
from headrace.sqltext import ident, literal

TIME_TYPES = ("date", "timestamp", "timestamp_tz")
NUMBER_TYPES = ("integer", "float")


@dataclass
class Window:
    conditions: list[str] = field(default_factory=list)
    previous: dict[str, Any] = field(default_factory=dict)
    maximum: str | None = None
    column: str | None = None
    sql_type: str | None = None
    description: str = ""


def _lower_bound(table: PostgresTable, column: SourceColumn, value: str) -> str:
    typed = f"{literal(value, DIALECT)}::{column.sql_type}"
    if table.lookback is None:
        return typed
    portable = column.portable
    if portable in TIME_TYPES:
        return f"({typed} - interval '{table.lookback_seconds()} seconds')"
    if portable in NUMBER_TYPES or portable.startswith("decimal"):
        if isinstance(table.lookback, str):
            raise TaskFailed(
                f"table {table.name}: lookback {table.lookback!r} is a duration but cursor {column.name!r} is "
                f"{column.sql_type}; give a number (how far back in cursor units)"
            )
        return f"({typed} - {int(table.lookback)})"
    raise TaskFailed(
        f"table {table.name}: lookback needs a date, timestamp or numeric cursor; {column.name!r} is {column.sql_type}"
    )


def cursor_window(
    cur: Any,
    table: PostgresTable,
    columns: list[SourceColumn],
    relation: str,
    conditions: list[str],
    state: dict[str, Any],
    full_refresh: bool,
) -> Window:
    """The rows this run reads; for incremental tables also the new maximum (same snapshot)."""
    if table.load != "incremental" or not table.cursor:
        return Window()
    column = next(c for c in columns if c.name == table.cursor)
    window = Window(previous={} if full_refresh else dict(state or {}), column=column.name, sql_type=column.sql_type)
    stored = window.previous.get("value")
    if stored is not None and window.previous.get("column") not in (None, column.name):
        raise TaskFailed(
            f"table {table.name}: the stored cursor is on column {window.previous['column']!r} but the cursor is now "
            f"{column.name!r}; run with --full-refresh to reload the table"
        )
    if stored is not None:
        window.conditions.append(f"{ident(column.name, DIALECT)} > {_lower_bound(table, column, str(stored))}")
        back = f" minus lookback {table.lookback}" if table.lookback is not None else ""
        window.description = f"rows with {column.name} > {stored}{back}"
    else:
        window.description = f"first incremental run: all rows (cursor {column.name})"
    where = " AND ".join([*conditions, *window.conditions])
    maximum = f"max({ident(column.name, DIALECT)})"
    if stored is not None:  # rows re-read through the lookback never move the cursor backwards
        maximum = f"greatest({maximum}, {literal(str(stored), DIALECT)}::{column.sql_type})"
    cur.execute(f"SELECT {maximum}::text FROM {relation}" + (f" WHERE {where}" if where else ""))
    window.maximum = cur.fetchone()[0]
    return window


def new_state(table: PostgresTable, window: Window) -> dict[str, Any]:
    """The state to commit with the load; an empty batch keeps the previous cursor."""
    if window.column is None:
        return {}
    if window.maximum is None:
        return window.previous
    return {"column": window.column, "value": window.maximum, "type": window.sql_type}
