"""A DuckDB table out as table files: ``COPY (SELECT ...) TO`` one gzip part, then ``schema.json``.

DuckDB writes the CSV of the contract itself (an unquoted empty field is NULL, ``""`` the empty
string, timestamps with a zone in UTC: every connection runs with ``TimeZone = 'UTC'``); only
``BLOB`` is spelled as the loaders read it (``\\x`` and hex, as PostgreSQL's ``bytea``). Headrace's
own columns (``_headrace_loaded_at``, ...) are left out: the files hold the table's data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from headrace.tablefiles import Column, TableSchema, TableWriter, reserved_columns
from headrace.typemaps import portable_type

if TYPE_CHECKING:
    from headrace.warehouses.duckdb.warehouse import DuckDBWarehouse


def export_table(wh: DuckDBWarehouse, schema: str, table: str, folder: Path) -> TableSchema:
    found = wh.column_types(schema, table)
    if not found:
        raise LookupError(f"{schema}.{table} does not exist in the warehouse")
    columns = [Column(name, portable_type(kind, "duckdb")) for name, kind in found if not reserved_columns([name])]
    selected = []
    for c in columns:
        v = wh.quote(c.name)
        selected.append(f"{wh.lit(chr(92) + 'x')} || lower(hex({v})) AS {v}" if c.type == "bytes" else v)
    writer = TableWriter(folder, columns)
    tmp = folder / ".export.csv.gz"
    sql = (
        f"COPY (SELECT {', '.join(selected)} FROM {wh.qualified(schema, table)}) TO {wh.lit(str(tmp))} "
        "(FORMAT csv, HEADER, COMPRESSION gzip)"
    )
    rows = wh.changed(sql)
    writer.adopt_part(tmp, rows, tmp.stat().st_size)
    return writer.close()
