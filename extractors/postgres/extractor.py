"""The ``postgres`` extractor: ``COPY (SELECT ...) TO STDOUT`` streamed into parts.

One connection per table, in a read-only REPEATABLE READ transaction, so the cursor's
new maximum and the rows copied come from the same snapshot: nothing committed between
the two statements can slip past the cursor. A large plain table is read as block ranges by
several ``psql`` processes at once (``ranges``, ``psql``), each joining that transaction's
exported snapshot, so the parts together are still one point in time. The parts are written
in the format the warehouse loads fastest (``ExtractContext.part_format``): CSV (gzip, zstd or
plain) or PostgreSQL's binary COPY. PostgreSQL's CSV output already is the
table file contract (unquoted empty = NULL, ``""`` = empty string, ``\\x`` hex bytea);
the session runs in UTC so ``timestamptz`` values and cursors are UTC.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from headrace import partformats
from headrace.components.extractor import ExtractContext
from headrace.connectors.postgres import connect, describe_target, reason
from headrace.errors import TaskFailed
from headrace.extractors.postgres import psql
from headrace.extractors.postgres.catalog import SourceColumn, describe, quote_source
from headrace.extractors.postgres.config import PostgresExtractorConfig, PostgresTable
from headrace.extractors.postgres.cursor import Window, cursor_window, new_state
from headrace.extractors.postgres.psql import RangeRead
from headrace.extractors.postgres.ranges import BlockRange, stream_count
from headrace.extractors.postgres.ranges import plan as ranges_plan
from headrace.extractors.postgres.stream import PartFile, pump
from headrace.tablefiles import Column, TableSchema, TableWriter, open_compressed
from headrace.typemaps import pg_type

Config = PostgresExtractorConfig


def _select(column: SourceColumn, part_format: str) -> str:
    """The column in the COPY's SELECT: as the CSV contract prints it, or for binary COPY cast to
    exactly the type the PostgreSQL warehouse creates (binary COPY checks no types, only bytes)."""
    if partformats.is_csv(part_format):
        return column.select or column.quoted
    if column.select.startswith("to_json("):  # arrays and composites
        value = f"to_json({column.quoted})"
    elif column.portable == "string":
        value = f"{column.quoted}::text"
    else:
        value = column.quoted
    return f"CAST({value} AS {pg_type(column.portable)}) AS {column.quoted}"


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
                columns, window = self._describe(cur, table)
                try:
                    return self._copy(cur, table, columns, window, folder, self.context.part_format)
                except (psycopg.errors.DataError, psql.ValueProblem):
                    if partformats.is_csv(self.context.part_format):
                        raise
                # binary COPY casts every column to the warehouse's type in the source, where a value
                # that does not fit fails without naming itself: read as CSV, and the load names it
                con.rollback()
                con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                con.read_only = True
                shutil.rmtree(folder, ignore_errors=True)
                self.context.log(f"{table.name}: a value does not fit the warehouse's type; reading it again as CSV")
                with con.cursor() as again:
                    columns, window = self._describe(again, table)
                    text = "csv.zst" if partformats.compression(self.context.part_format) == "zstd" else "csv"
                    return self._copy(again, table, columns, window, folder, text)
        finally:
            con.close()

    def _describe(self, cur: Any, table: PostgresTable) -> tuple[list[SourceColumn], Window]:
        """The table's columns and the rows this run reads (in the transaction's snapshot)."""
        import psycopg

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
        return columns, window

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
        self,
        cur: Any,
        table: PostgresTable,
        columns: list[SourceColumn],
        window: Window,
        folder: Path,
        part_format: str,
    ) -> tuple[TableSchema, dict[str, Any]]:
        import psycopg

        conditions = [*self._conditions(table), *window.conditions]
        select = ", ".join(_select(c, part_format) for c in columns)
        sql = f"SELECT {select} FROM {self._relation(table)}"
        options = "FORMAT csv" if partformats.is_csv(part_format) else "FORMAT binary"
        writer = TableWriter(folder, [Column(c.name, c.portable, c.nullable) for c in columns], part_format=part_format)
        started = time.monotonic()
        if window.description:
            self.context.log(f"{table.name}: {window.description}")
        try:
            psql_program = psql.find()
            streams = stream_count(self.config.streams)
            ranges = ranges_plan(cur, table.source, streams)
            if ranges and not psql_program:
                self.context.log(f"{table.name}: one stream (no psql here for parallel range reads)")
                ranges = []
            elif ranges and not psql.usable(" ".join([sql, *conditions])):
                self.context.log(f"{table.name}: one stream (its SQL has a backslash or a :name psql would read)")
                ranges = []
            if ranges:
                self._read_ranges(cur, table, sql, conditions, options, ranges, streams, psql_program or "", writer)
            else:
                if conditions:
                    sql += " WHERE " + " AND ".join(conditions)
                self._read_one(cur, sql, options, writer)
        except psycopg.Error as exc:
            if isinstance(exc, psycopg.errors.DataError) and not partformats.is_csv(part_format):
                raise  # the caller reads again as CSV
            raise TaskFailed(
                f"{self._what(table)}: reading from {describe_target(self.settings)} failed after "
                f"{writer.schema.bytes:,} bytes: {reason(exc)}; nothing of this run was loaded"
            ) from None
        schema = writer.close()
        elapsed = max(time.monotonic() - started, 1e-6)
        count = schema.rows or 0
        self.context.log(f"{table.name}: {count:,} rows extracted ({count / elapsed:,.0f} rows/s)")
        return schema, new_state(table, window)

    def _read_one(self, cur: Any, sql: str, options: str, writer: TableWriter) -> None:
        """One stream on the extractor's own connection (small tables, views, queries, no psql)."""
        tmp = writer.folder / ".part.tmp"
        with cur.copy(f"COPY ({sql}\n) TO STDOUT WITH ({options})") as copy:
            if partformats.is_csv(writer.part_format):
                pump(copy, writer)
            else:  # a binary COPY stream is one part, whole
                with open_compressed(tmp, partformats.compression(writer.part_format)) as out:
                    pump(copy, PartFile(out))
        rows = int(cur.rowcount) if cur.rowcount is not None and cur.rowcount >= 0 else None
        if partformats.is_csv(writer.part_format):
            writer.schema.rows = rows
        else:
            writer.adopt_part(tmp, rows, tmp.stat().st_size)

    def _read_ranges(
        self,
        cur: Any,
        table: PostgresTable,
        sql: str,
        conditions: list[str],
        options: str,
        ranges: list[BlockRange],
        streams: int,
        program: str,
        writer: TableWriter,
    ) -> None:
        """Block ranges read by ``psql`` processes at once, all in this transaction's snapshot."""
        cur.execute("SELECT pg_catalog.pg_export_snapshot()")
        snapshot = str(cur.fetchone()[0])
        streams = min(streams, len(ranges))
        self.context.log(
            f"{table.name}: {len(ranges)} block ranges, {streams} streams at a time (one snapshot), "
            f"{writer.part_format} parts"
        )
        header = writer.header() if partformats.is_csv(writer.part_format) else b""
        compression = partformats.compression(writer.part_format)
        application = f"headrace:{self.context.extractor_id}"
        reads = [
            RangeRead(
                f"{sql} WHERE " + " AND ".join([*conditions, block.condition()]),
                options,
                snapshot,
                writer.folder / f".range-{i:05d}.tmp",
                compression,
                header,
            )
            for i, block in enumerate(ranges)
        ]
        what = f"{self._what(table)}: reading from {describe_target(self.settings)} failed"
        with ThreadPoolExecutor(max_workers=streams, thread_name_prefix="range") as pool:
            futures = [pool.submit(psql.run, program, self.settings, application, r, what) for r in reads]
            try:
                rows = [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        for read, count in zip(reads, rows, strict=True):
            writer.adopt_part(read.path, count, read.path.stat().st_size)
