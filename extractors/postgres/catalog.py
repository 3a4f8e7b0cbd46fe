"""Column types from the source catalog, mapped to portable types (never sniffed from data).

Every column is described by its type OID and modifier, from ``pg_attribute`` for a
``source:`` table or from the result description of a ``query:``. Domains resolve to
their base type. Each column also gets the SQL expression that makes COPY write what
the table file contract expects (booleans as ``true``/``false``, arrays and composites
as JSON, everything else as PostgreSQL's own text form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headrace.sqltext import ident, qualified

DIALECT = "postgres"

INTEGER = {"int2", "int4", "int8", "oid", "xid"}
FLOAT = {"float4", "float8"}


@dataclass
class SourceColumn:
    name: str
    type_oid: int
    typmod: int
    nullable: bool
    sql_type: str = ""  # format_type(), e.g. numeric(12,2)
    portable: str = "string"
    select: str = ""  # expression in the extraction SELECT

    @property
    def quoted(self) -> str:
        return ident(self.name, DIALECT)


def quote_source(source: str) -> str:
    """``schema.table`` of a ``source:`` as a quoted name."""
    schema, table = source.split(".")
    return qualified(schema, table, DIALECT)


_TABLE_COLUMNS = """
SELECT a.attname, a.atttypid, a.atttypmod, NOT a.attnotnull
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_TYPES = """
WITH RECURSIVE chain(oid, base, typmod, depth) AS (
    SELECT t.oid, t.oid, -1, 0 FROM pg_catalog.pg_type AS t WHERE t.oid = ANY(%s)
    UNION ALL
    SELECT chain.oid, t.typbasetype, t.typtypmod, chain.depth + 1
    FROM chain JOIN pg_catalog.pg_type AS t ON t.oid = chain.base
    WHERE t.typtype = 'd'
)
SELECT DISTINCT ON (chain.oid) chain.oid, t.typname, t.typtype, t.typcategory, chain.typmod
FROM chain JOIN pg_catalog.pg_type AS t ON t.oid = chain.base
ORDER BY chain.oid, chain.depth DESC
"""


def describe(cur: Any, source: str | None, query: str | None) -> list[SourceColumn]:
    """Columns of a ``schema.table`` or of a query's result, in order."""
    if source is not None:
        schema, table = source.split(".")
        cur.execute(_TABLE_COLUMNS, (schema, table))
        columns = [SourceColumn(n, int(oid), int(mod), bool(null)) for n, oid, mod, null in cur.fetchall()]
    else:
        text = (query or "").strip().rstrip(";")
        cur.execute(f"SELECT * FROM ({text}\n) AS _headrace_q LIMIT 0")  # newline: a query may end in a comment
        result = cur.pgresult
        columns = [
            SourceColumn(d.name, int(d.type_code), int(result.fmod(i)) if result else -1, True)
            for i, d in enumerate(cur.description or [])
        ]
    if not columns:
        return columns
    oids = sorted({c.type_oid for c in columns})
    cur.execute(_TYPES, (oids,))
    types = {int(oid): (name, kind, category, int(mod)) for oid, name, kind, category, mod in cur.fetchall()}
    cur.execute(
        "SELECT format_type(t.oid, t.mod) FROM unnest(%s::oid[], %s::int[]) WITH ORDINALITY AS t(oid, mod, i) "
        "ORDER BY t.i",
        ([c.type_oid for c in columns], [c.typmod for c in columns]),
    )
    for column, (sql_type,) in zip(columns, cur.fetchall(), strict=True):
        column.sql_type = sql_type
        name, kind, category, base_mod = types.get(column.type_oid, ("unknown", "b", "U", -1))
        typmod = column.typmod if column.typmod >= 0 else base_mod
        column.portable, column.select = _map(column.quoted, name, kind, category, typmod)
    return columns


def _map(col: str, name: str, kind: str, category: str, typmod: int) -> tuple[str, str]:
    """(portable type, SELECT expression) for one column."""
    if category == "A" or kind == "c":  # arrays and composite types: JSON text
        return "json", f"to_json({col})::text AS {col}"
    if name in INTEGER:
        return "integer", col
    if name in FLOAT:
        return "float", col
    if name == "numeric":
        precision, scale = _numeric(typmod)
        if precision is None:  # unconstrained numeric: exact text keeps every digit
            return "decimal(38,9)", col
        if precision > 38:
            return "string", f"{col}::text AS {col}"
        return f"decimal({precision},{scale})", col
    if name == "bool":
        return "boolean", f"CASE WHEN {col} THEN 'true' WHEN NOT {col} THEN 'false' END AS {col}"
    if name == "date":
        return "date", col
    if name == "timestamp":
        return "timestamp", col
    if name == "timestamptz":
        return "timestamp_tz", col
    if name in ("json", "jsonb"):
        return "json", col
    if name == "bytea":
        return "bytes", col
    return "string", col  # text, varchar, uuid, enums, inet, time, interval, ... as PostgreSQL prints them


def _numeric(typmod: int) -> tuple[int | None, int]:
    if typmod < 4:
        return None, 0
    value = typmod - 4
    precision = (value >> 16) & 0xFFFF
    scale = value & 0x7FF
    if scale > precision:  # negative or odd scales (PostgreSQL 15 allows them): keep exact text
        return 39, 0
    return precision, scale
