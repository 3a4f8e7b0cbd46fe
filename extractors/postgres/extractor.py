"""The ``postgres`` extractor: ``COPY (SELECT ...) TO STDOUT`` streamed into gzip CSV parts.

One connection per table, in a read-only REPEATABLE READ transaction, so the cursor's
new maximum and the rows copied come from the same snapshot: nothing committed between
the two statements can slip past the cursor. PostgreSQL's CSV output already is the
table file contract (unquoted empty = NULL, ``""`` = empty string, ``\\x`` hex bytea);
the session runs in UTC so ``timestamptz`` values and cursors are UTC.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from headrace.components.extractor import ExtractContext
from headrace.connectors.postgres import connect, describe_target, reason
from headrace.errors import TaskFailed
from headrace.extractors.postgres.catalog import SourceColumn, describe, quote_source
from headrace.extractors.postgres.config import PostgresExtractorConfig, PostgresTable
from headrace.extractors.postgres.cursor import Window, cursor_window, new_state
from headrace.extractors.postgres.stream import pump
from headrace.tablefiles import Column, TableSchema, TableWriter

Config = PostgresExtractorConfig


class Extractor:
    def __init__(self, config: PostgresExtractorConfig, context: ExtractContext):
        self.config = config
        self.context = context
        self.settings = config.connection.model_dump()

    def extract(self, table: PostgresTable, folder: Path) -> tuple[TableSchema, dict[str, Any]]:
        import psycopg

        where = f"extractor {self.context.extractor_id}, table {table.name}"
        con = connect(self.settings, where, application=f"headrace:{self.context.extractor_id}", autocommit=False)
        try:
            con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            con.read_only = True
            with con.cursor() as cur:
                try:
                    columns = self._columns(cur, table)
                    window = cursor_window(
                        cur,
                        table,
                        columns,
                        self._relation(table),
                        self._conditions(table),
                        self.context.state,
                        self.context.full_refresh,
                    )
                except psycopg.Error as exc:
                    raise TaskFailed(f"{self._what(table)}: {reason(exc)}") from None
                return self._copy(cur, table, columns, window, folder)
        finally:
            con.close()

    def _what(self, table: PostgresTable) -> str:
        return table.source or f"query of table {table.name!r}"

    def _columns(self, cur: Any, table: PostgresTable) -> list[SourceColumn]:
        columns = describe(cur, table.source, table.query)
        if not columns:
            raise TaskFailed(
                f"{table.source}: no such table or view at {describe_target(self.settings)} "
                "(or the user may not read it); check tables[].source"
            )
        names = [c.name for c in columns]
        unknown = [c for c in table.columns.exclude if c not in names]
        wanted = [*table.primary_key, *([table.cursor] if table.cursor else [])]
        missing = [c for c in wanted if c not in names]
        if unknown or missing:
            problem = (
                f"columns.exclude names {', '.join(unknown)}" if unknown else f"column(s) {', '.join(missing)} needed"
            )
            raise TaskFailed(f"{self._what(table)}: {problem}, not among its columns ({', '.join(names)})")
        return [c for c in columns if c.name not in table.columns.exclude]

    def _relation(self, table: PostgresTable) -> str:
        if table.source:
            return quote_source(table.source)
        query = (table.query or "").strip().rstrip(";")
        return f"({query}\n) AS _headrace_q"  # the newline ends a trailing -- comment

    def _conditions(self, table: PostgresTable) -> list[str]:
        return [f"({table.filter}\n)"] if table.filter else []  # validated: one condition (fragment_problem)

    def _copy(
        self, cur: Any, table: PostgresTable, columns: list[SourceColumn], window: Window, folder: Path
    ) -> tuple[TableSchema, dict[str, Any]]:
        import psycopg

        conditions = [*self._conditions(table), *window.conditions]
        select = ", ".join(c.select or c.quoted for c in columns)
        sql = f"SELECT {select} FROM {self._relation(table)}"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        writer = TableWriter(folder, [Column(c.name, c.portable, c.nullable) for c in columns])
        started = time.monotonic()
        if window.description:
            self.context.log(f"{table.name}: {window.description}")
        try:
            with cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
                pump(copy, writer)
            rows = cur.rowcount
        except psycopg.Error as exc:
            raise TaskFailed(
                f"{self._what(table)}: reading from {describe_target(self.settings)} failed after "
                f"{writer.schema.bytes:,} bytes: {reason(exc)}; nothing of this run was loaded"
            ) from None
        writer.schema.rows = int(rows) if rows is not None and rows >= 0 else None
        schema = writer.close()
        elapsed = max(time.monotonic() - started, 1e-6)
        count = schema.rows or 0
        self.context.log(f"{table.name}: {count:,} rows extracted ({count / elapsed:,.0f} rows/s)")
        return schema, new_state(table, window)
