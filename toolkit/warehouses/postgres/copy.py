"""Stored parts into PostgreSQL: ``COPY FROM STDIN``, streamed and decompressed part by part.

PostgreSQL reads no client files, so every storage is streamed (``storage.open``). CSV parts
(``csv``, ``csv.gz``, ``csv.zst``): COPY checks the header against the columns
(``HEADER MATCH``) and converts every value with the column's type; a value it refuses stops the
load with one line naming table, column, line and value (``parts.bad_value``), from the COPY
context PostgreSQL reports. ``pgcopy`` parts are PostgreSQL binary COPY streams whose columns
the extractor cast to the warehouse's types (``typemaps.pg_type``): nothing is parsed, and a
stream that does not fit says so with the row and column COPY's context names.
"""

from __future__ import annotations

import re
from typing import Any

from headrace import partformats
from headrace.errors import TaskFailed
from headrace.storage.base import Storage
from headrace.typemaps import pg_type
from headrace.warehouses.base import LoadRequest, StoredPart
from headrace.warehouses.common import parts

_LINE = re.compile(r"line (\d+)")
_COLUMN = re.compile(r"column (\S+)")


def insert_part(cur: Any, table: str, columns: str, request: LoadRequest, part: StoredPart, storage: Storage) -> int:
    """COPY one part into ``table``'s ``columns`` (quoted, comma-separated); rows copied."""
    import psycopg

    binary = partformats.FORMATS[parts.part_format(part)][0] == "pgcopy"
    options = "FORMAT binary" if binary else "FORMAT csv, HEADER MATCH"
    sql = f"COPY {table} ({columns}) FROM STDIN WITH ({options})"
    try:
        with cur.copy(sql) as copy:
            parts.copy_csv(storage, part, copy.write)  # any part's bytes, decompressed
    except psycopg.errors.DataError as exc:  # a value or a row COPY could not read (SQLSTATE class 22)
        raise (explain_binary(exc, request, part) if binary else explain(exc, request, part)) from None
    except psycopg.errors.ProtocolViolation as exc:  # a binary field shorter than its type (int4 for int8)
        if not binary:
            raise
        raise explain_binary(exc, request, part) from None
    return max(cur.rowcount, 0)


def _why(exc: Any) -> str:
    primary = exc.diag.message_primary or str(exc).strip().splitlines()[0]
    detail = (exc.diag.message_detail or "").rstrip(".")
    return f"PostgreSQL: {primary}" + (f": {detail}" if detail else "")


def explain(exc: Any, request: LoadRequest, part: StoredPart) -> Exception:
    """One line from COPY's context: ``COPY t, line 2, column ts: "0044-..."`` (lines are physical)."""
    context = exc.diag.context or ""
    line_match = _LINE.search(context)
    line = int(line_match.group(1)) if line_match else None
    column, value = None, None
    for c in sorted(request.files.columns, key=lambda c: -len(c.name)):  # the longest name that fits
        marker = f", column {c.name}: "
        if marker in context:
            column = c.name
            quoted = context.split(marker, 1)[1].strip()
            value = quoted[1:-1] if quoted.startswith('"') and quoted.endswith('"') else None
            break
    return parts.bad_value(request, part, line, column, value, _why(exc))


def explain_binary(exc: Any, request: LoadRequest, part: StoredPart) -> TaskFailed:
    """A binary COPY stream that does not fit the table: its context gives at most the row
    (COPY counts a binary row as a "line") and the column, never a value."""
    context = exc.diag.context or ""
    where = []
    if line := _LINE.search(context):
        where.append(f"row {line.group(1)}")
    if column := _COLUMN.search(context.split(",", 1)[-1]):
        name = column.group(1).rstrip(":")
        kind = next((c.type for c in request.files.columns if c.name == name), None)
        where.append(f"column {name}" + (f" ({kind}, loaded as {pg_type(kind)})" if kind else ""))
    at = f" at {', '.join(where)}" if where else ""
    expected = ", ".join(f"{c.name} {pg_type(c.type)}" for c in request.files.columns)
    return TaskFailed(
        f"{request.schema}.{request.table}: {parts.part_name(part)} is not a PostgreSQL binary COPY stream of "
        f"the table's columns ({expected}){at} ({_why(exc)}); the extractor must write every column cast to "
        "exactly these types, in this order (headrace.typemaps.pg_type): fix the extractor, "
        "then extract the table again"
    )
