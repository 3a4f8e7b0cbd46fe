"""Stored parts into PostgreSQL: ``COPY FROM STDIN``, streamed and decompressed part by part.

PostgreSQL reads no client files, so every storage is streamed (``storage.open``). COPY
checks the header against the columns (``HEADER MATCH``) and converts every value with the
column's type; a value it refuses stops the load with one line naming table, column, line
and value (``parts.bad_value``), from the COPY context PostgreSQL reports.
"""

from __future__ import annotations

import re
from typing import Any

from headrace.storage.base import Storage
from headrace.warehouses.base import LoadRequest, StoredPart
from headrace.warehouses.common import parts

_LINE = re.compile(r"line (\d+)")


def insert_part(cur: Any, table: str, columns: str, request: LoadRequest, part: StoredPart, storage: Storage) -> int:
    """COPY one part into ``table``'s ``columns`` (quoted, comma-separated); rows copied."""
    import psycopg

    sql = f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER MATCH)"
    try:
        with cur.copy(sql) as copy:
            parts.copy_csv(storage, part, copy.write)
    except psycopg.errors.DataError as exc:  # a value or a row COPY could not read (SQLSTATE class 22)
        raise explain(exc, request, part) from None
    return max(cur.rowcount, 0)


def explain(exc: Any, request: LoadRequest, part: StoredPart) -> Exception:
    """One line from COPY's context: ``COPY t, line 2, column ts: "0044-..."`` (lines are physical)."""
    context = exc.diag.context or ""
    primary = exc.diag.message_primary or str(exc).strip().splitlines()[0]
    detail = (exc.diag.message_detail or "").rstrip(".")
    why = f"PostgreSQL: {primary}" + (f": {detail}" if detail else "")
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
    return parts.bad_value(request, part, line, column, value, why)
