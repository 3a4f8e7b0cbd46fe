"""A PostgreSQL table out as table files: ``COPY (SELECT ...) TO STDOUT`` streamed into gzip parts.

PostgreSQL's CSV is the contract's (an unquoted empty field is NULL, ``""`` the empty string,
``bytea`` as ``\\x`` hex); the connection runs with ``TimeZone = 'UTC'`` and ISO dates. Column
types come from ``format_type`` (``numeric(12,2)``, not information_schema's bare ``numeric``).
Headrace's own columns (``_headrace_loaded_at``, ...) are left out: the files hold the table's data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from headrace.tablefiles import Column, TableSchema, TableWriter, reserved_columns
from headrace.typemaps import portable_type

if TYPE_CHECKING:
    from headrace.warehouses.postgres.warehouse import PostgresWarehouse

_COLUMNS = (
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a "
    "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
)


def export_table(wh: PostgresWarehouse, schema: str, table: str, folder: Path) -> TableSchema:
    name = wh.qualified(schema, table)
    found = wh.run(_COLUMNS, (name,)).fetchall()
    if not found:
        raise LookupError(f"{schema}.{table} does not exist in the warehouse")
    columns = [Column(col, portable_type(kind, "postgres")) for col, kind in found if not reserved_columns([col])]
    writer = TableWriter(folder, columns)
    select = ", ".join(wh.quote(c.name) for c in columns)
    sql = f"COPY (SELECT {select} FROM {name}) TO STDOUT WITH (FORMAT csv)"
    with wh.transaction(), wh.con.cursor() as cur, cur.copy(sql) as copy:  # one snapshot for the whole table
        for chunk in copy:
            writer.write_csv(bytes(chunk))
    return writer.close()
