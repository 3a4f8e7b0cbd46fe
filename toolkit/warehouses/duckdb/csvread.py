"""Stored parts into DuckDB with ``read_csv``: natively from a ``file://`` URI, or streamed
through a FIFO from any other storage.

Nothing is sniffed: every column is read as text and converted with the type
``schema.json`` declares. A value that does not convert stops the load with one line
naming table, column, line and value (``parts.bad_value``), never DuckDB's CSV dump.
Values DuckDB holds but spells differently arrive exactly: PostgreSQL's BC dates and
timestamps (``0044-03-15 12:00:00+00 BC``) and hex ``bytea`` (``\\x00ff``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from headrace.storage.base import Storage
from headrace.storage.local import local_path
from headrace.tablefiles import Column
from headrace.typemaps import duckdb_type as wh_type
from headrace.types import parse_type
from headrace.warehouses.base import LoadRequest, StoredPart
from headrace.warehouses.common import parts
from headrace.warehouses.duckdb import fifo

if TYPE_CHECKING:
    from headrace.warehouses.duckdb.warehouse import DuckDBWarehouse

MARK = "headrace:bad-value:"  # error(MARK || column index || ':' || value) names a value that does not convert
_MARKED = re.compile(re.escape(MARK) + r"(\d+):(.*)", re.DOTALL)
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _bc_date(v: str) -> str:  # PostgreSQL "0044-03-15 ... BC" -> DuckDB's "0044-03-15 (BC)"
    return f"CAST(split_part({v}, ' ', 1) || ' (BC)' AS DATE)"


def _converted(wh: DuckDBWarehouse, column: Column, index: int) -> str:
    """The expression turning the column's text into its type, or raising the marked error."""
    v = wh.quote(column.name)
    kind = parse_type(column.type).name
    target = wh.sql_type(column.type)
    if kind == "string":
        return v
    if kind == "bytes":
        value = f"CASE WHEN starts_with({v}, {wh.lit(chr(92) + 'x')}) THEN try(from_hex(substr({v}, 3))) END"
    elif kind in ("date", "timestamp", "timestamp_tz"):
        if kind == "date":
            bc = _bc_date(v)
        elif kind == "timestamp":
            bc = f"{_bc_date(v)} + CAST(split_part({v}, ' ', 2) AS TIME)"
        else:  # the time and offset as an interval from midnight UTC, added to the BC day
            midnight = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"
            offset = f"CAST('2000-01-01 ' || split_part({v}, ' ', 2) AS TIMESTAMPTZ) - {midnight}"
            bc = f"timezone('UTC', CAST({_bc_date(v)} AS TIMESTAMP) + ({offset}))"
        value = f"CASE WHEN ends_with({v}, ' BC') THEN try({bc}) ELSE TRY_CAST({v} AS {target}) END"
    else:
        value = f"TRY_CAST({v} AS {target})"
    return f"CASE WHEN {v} IS NULL THEN NULL ELSE coalesce({value}, error({wh.lit(f'{MARK}{index}:')} || {v})) END"


def select(wh: DuckDBWarehouse, request: LoadRequest, source: str, compression: str) -> str:
    columns = request.files.columns
    text = "{" + ", ".join(f"{wh.lit(c.name)}: 'VARCHAR'" for c in columns) + "}"
    converted = ", ".join(_converted(wh, c, i) for i, c in enumerate(columns))
    return (
        f"SELECT {converted} FROM read_csv({wh.lit(source)}, header = true, auto_detect = false, "
        f"allow_quoted_nulls = false, delim = ',', quote = '\"', escape = '\"', "
        f"compression = {wh.lit(compression)}, columns = {text})"
    )


def insert_part(wh: DuckDBWarehouse, table: str, request: LoadRequest, part: StoredPart, storage: Storage) -> int:
    """Add one part's rows to the data columns of ``table``; rows added."""
    import duckdb

    columns = ", ".join(wh.quote(c.name) for c in request.files.columns)
    if storage.capabilities.scheme in wh.capabilities.native_load_schemes:
        source = str(local_path(part.uri)) if part.uri.startswith("file:") else part.uri  # %20 -> space
        try:
            return wh.changed(f"INSERT INTO {table} ({columns}) {select(wh, request, source, parts.codec(part))}")
        except duckdb.Error as exc:
            raise explain(exc, request, part, storage) from None
    with fifo.streamed(storage, part) as (path, feeder):
        try:
            rows = wh.changed(f"INSERT INTO {table} ({columns}) {select(wh, request, path, 'none')}")
        except duckdb.Error as exc:
            feeder.finish()
            cause = feeder.read_error()
            if cause is not None:  # the part could not be read: that is why DuckDB failed
                raise cause from None
            raise explain(exc, request, part, storage) from None
        feeder.finish()
        feeder.check()
    return rows


def explain(exc: Exception, request: LoadRequest, part: StoredPart, storage: Storage) -> Exception:
    """One line for a value or a row DuckDB could not read; other errors as they are."""
    message = str(exc)
    marked = _MARKED.search(message)
    if marked:
        index, value = int(marked.group(1)), marked.group(2)
        column = request.files.columns[index]
        line = parts.find_line(storage, part, index, value)
        why = f"DuckDB {wh_type(column.type)}: malformed or out of range"
        return parts.bad_value(request, part, line, column.name, value, why)
    if "CSV" not in message:
        return exc
    # the CSV reader's own error: keep its reason, drop its advice and option dump (options are fixed here)
    lines = [x.strip() for x in message.split("Possible", 1)[0].splitlines() if x.strip()]
    csv_line = _CSV_LINE.search(message)  # DuckDB counts records (the header is 1); name the physical line
    line = parts.find_line(storage, part, 0, None, record=int(csv_line.group(1))) if csv_line else None
    return parts.bad_value(request, part, line, None, None, f"DuckDB: {lines[-1] if lines else message}")
