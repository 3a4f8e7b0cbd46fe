"""Stored parts into DuckDB with ``read_csv``: natively from ``file://`` URIs (all parts of a load
in one ``read_csv`` over the list of files, which DuckDB reads in parallel; gzip, zstd or plain), or
streamed through a FIFO, part after part, from any other storage (decompressed in Python).

A full load does not need the rows in order: it runs with ``preserve_insertion_order = false``,
which lets DuckDB write what its threads read without holding rows back (half the time at a low
``memory_limit``). A batch (append, upsert) keeps part and line order: its rowid is its sequence.

Nothing is sniffed: every column is read as text and converted with the type
``schema.json`` declares. A value that does not convert stops the load with one line
naming table, column, line and value (``parts.bad_value``), never DuckDB's CSV dump.
Values DuckDB holds but spells differently arrive exactly: PostgreSQL's BC dates and
timestamps (``0044-03-15 12:00:00+00 BC``) and hex ``bytea`` (``\\x00ff``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from headrace.errors import TaskFailed
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

MARK = "headrace:bad-value:"  # error(MARK || column index || ':' || file || ':' || value) names a bad value
_MARKED = re.compile(re.escape(MARK) + r"(\d+):(.*)", re.DOTALL)
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CSV_FILE = re.compile(r"^\s*file = (.*)$", re.MULTILINE)  # in the option dump of DuckDB's CSV errors
FILE_COLUMN = "_headrace_part_file"  # read_csv's filename column: which part a bad value is in


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
    marked = f"{wh.lit(f'{MARK}{index}:')} || {wh.quote(FILE_COLUMN)} || ':' || {v}"
    return f"CASE WHEN {v} IS NULL THEN NULL ELSE coalesce({value}, error({marked})) END"


def select(wh: DuckDBWarehouse, request: LoadRequest, sources: list[str], compression: str) -> str:
    columns = request.files.columns
    text = "{" + ", ".join(f"{wh.lit(c.name)}: 'VARCHAR'" for c in columns) + "}"
    converted = ", ".join(_converted(wh, c, i) for i, c in enumerate(columns))
    files = "[" + ", ".join(wh.lit(s) for s in sources) + "]"
    return (
        f"SELECT {converted} FROM read_csv({files}, header = true, auto_detect = false, "
        f"allow_quoted_nulls = false, delim = ',', quote = '\"', escape = '\"', "
        f"compression = {wh.lit(compression)}, columns = {text}, filename = {wh.lit(FILE_COLUMN)})"
    )


def local_source(part: StoredPart) -> str:
    return str(local_path(part.uri)) if part.uri.startswith("file:") else part.uri  # %20 -> space


def _runs(request: LoadRequest) -> Iterator[list[StoredPart]]:
    """The parts in order, in runs of the same compression (a load's parts share one: one run)."""
    run: list[StoredPart] = []
    for part in request.parts:
        if run and parts.codec(part) != parts.codec(run[0]):
            yield run
            run = []
        run.append(part)
    if run:
        yield run


@contextmanager
def insertion_order(wh: DuckDBWarehouse, ordered: bool) -> Iterator[None]:
    """``preserve_insertion_order`` as the insert needs it; set back to DuckDB's default (true) after.
    A failed statement leaves the transaction aborted, where no SET runs: the rollback sets it back
    (``DuckDBWarehouse._rollback``), and an ordered insert always sets it itself."""
    wh.run(f"SET preserve_insertion_order = {'true' if ordered else 'false'}")
    try:
        yield
    finally:
        if not ordered:
            import duckdb

            with suppress(duckdb.Error):
                wh.run("SET preserve_insertion_order = true")


def insert_parts(wh: DuckDBWarehouse, table: str, request: LoadRequest, storage: Storage, ordered: bool) -> int:
    """Add all the request's parts to the data columns of ``table``; rows added."""
    import duckdb

    for part in request.parts:
        parts.require_csv(request, part, "DuckDB")
    if storage.capabilities.scheme not in wh.capabilities.native_load_schemes:
        with insertion_order(wh, ordered=True):  # one part at a time through the FIFO
            return sum(_streamed(wh, table, request, part, storage) for part in request.parts)
    columns = ", ".join(wh.quote(c.name) for c in request.files.columns)
    rows = 0
    with insertion_order(wh, ordered):
        for run in _runs(request):
            sources = {local_source(p): p for p in run}
            try:
                rows += wh.changed(
                    f"INSERT INTO {table} ({columns}) {select(wh, request, list(sources), parts.codec(run[0]))}"
                )
            except duckdb.Error as exc:
                raise explain(exc, request, sources, storage) from None
    return rows


def _streamed(wh: DuckDBWarehouse, table: str, request: LoadRequest, part: StoredPart, storage: Storage) -> int:
    """One part through a FIFO (decompressed by the feeder): DuckDB reads only local files here."""
    import duckdb

    columns = ", ".join(wh.quote(c.name) for c in request.files.columns)
    with fifo.streamed(storage, part) as (path, feeder):
        try:
            rows = wh.changed(f"INSERT INTO {table} ({columns}) {select(wh, request, [path], 'none')}")
        except duckdb.Error as exc:
            feeder.finish()
            cause = feeder.read_error()
            if cause is not None:  # the part could not be read: that is why DuckDB failed
                raise cause from None
            raise explain(exc, request, {path: part}, storage) from None
        feeder.finish()
        feeder.check()
    return rows


def _which(text: str, sources: dict[str, StoredPart]) -> tuple[StoredPart, str] | None:
    """The part whose file ``text`` starts with (and the rest of ``text`` after ``file:``)."""
    for source in sorted(sources, key=len, reverse=True):  # the longest first: a path may hold ':'
        if text.startswith(source + ":"):
            return sources[source], text[len(source) + 1 :]
    return None


def explain(exc: Exception, request: LoadRequest, sources: dict[str, StoredPart], storage: Storage) -> Exception:
    """One line for a value or a row DuckDB could not read, naming its part; other errors as they are."""
    message = str(exc)
    marked = _MARKED.search(message)
    found = _which(marked.group(2), sources) if marked else None
    if marked and found:
        index, (part, value) = int(marked.group(1)), found
        column = request.files.columns[index]
        line = parts.find_line(storage, part, index, value)
        why = f"DuckDB {wh_type(column.type)}: malformed or out of range"
        return parts.bad_value(request, part, line, column.name, value, why)
    if "CSV" not in message:
        return exc
    named = _CSV_FILE.search(message)
    part = sources.get(named.group(1).strip()) if named else None
    if part is None and len(sources) == 1:
        part = next(iter(sources.values()))
    if part is None:  # DuckDB named no part we know: say which parts, never a wrong one
        return TaskFailed(
            f"{request.schema}.{request.table}: one of its {len(sources)} parts holds a row that is not a row of "
            f"the table file contract ({_reason(message)}; extract the table again)"
        )
    # the CSV reader's own error: keep its reason, drop its advice and option dump (options are fixed here)
    csv_line = _CSV_LINE.search(message)  # DuckDB counts records (the header is 1); name the physical line
    line = parts.find_line(storage, part, 0, None, record=int(csv_line.group(1))) if csv_line else None
    return parts.bad_value(request, part, line, None, None, f"DuckDB: {_reason(message)}")


def _reason(message: str) -> str:
    lines = [x.strip() for x in message.split("Possible", 1)[0].splitlines() if x.strip()]
    return lines[-1] if lines else message
