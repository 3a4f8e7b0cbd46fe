"""From the raw table (every column STRING, as the CSV holds it) to typed values, in SQL.

BigQuery's CSV reader does not read every value of the table file contract (PostgreSQL's hex
``bytea``, JSON documents, decimals past NUMERIC's scale), so a load job brings the text in as
it is and one query converts it with the types ``schema.json`` declares. A value that does not
convert is found first (``first_bad``) and named with its table, column, line and value.
"""

from __future__ import annotations

from headrace.sqltext import ident
from headrace.tablefiles import Column
from headrace.typemaps import sql_type
from headrace.types import parse_type
from headrace.warehouses.bigquery.csvstream import SEQ, decoded

D = "bigquery"


def text(column: Column, streamed: bool) -> str:
    """The column's raw text (line ends restored when it was streamed)."""
    name = ident(column.name, D)
    return decoded(name) if streamed else name


def typed(column: Column, value: str) -> str:
    """SQL turning ``value`` (STRING) into the column's type; NULL where it does not convert."""
    t = parse_type(column.type)
    if t.name == "string":
        return value
    if t.name == "bytes":  # PostgreSQL's hex form, \x00ff
        return f"IF(STARTS_WITH({value}, '\\\\x'), SAFE.FROM_HEX(SUBSTR({value}, 3)), NULL)"
    if t.name == "json":
        return f"SAFE.PARSE_JSON({value})"
    if t.name == "decimal":
        kind = sql_type(column.type, D)
        digits = (t.precision or 0) - (t.scale or 0)
        rounded = f"ROUND(SAFE_CAST({value} AS {kind}), {t.scale or 0})"
        if digits >= (29 if kind == "NUMERIC" else 38):  # the type itself holds no more digits
            return rounded
        return f"IF(ABS({rounded}) < CAST('1e{digits}' AS {kind}), {rounded}, NULL)"
    return f"SAFE_CAST({value} AS {sql_type(column.type, D)})"


def converted(columns: list[Column], streamed: bool) -> list[str]:
    """``typed AS name`` for every column."""
    return [f"{typed(c, text(c, streamed))} AS {ident(c.name, D)}" for c in columns]


def first_bad(columns: list[Column], raw: str, streamed: bool) -> str | None:
    """A query for the first value that does not convert: (column index, value, sequence)."""
    seq = ident(SEQ, D) if streamed else "0"
    branches = []
    for index, column in enumerate(columns):
        if parse_type(column.type).name == "string":
            continue
        value = text(column, streamed)
        branches.append(
            f"SELECT {index} AS i, {value} AS v, {seq} AS s FROM {raw} "
            f"WHERE {value} IS NOT NULL AND {typed(column, value)} IS NULL"
        )
    if not branches:
        return None
    return f"SELECT i, v, s FROM ({' UNION ALL '.join(branches)}) ORDER BY s, i LIMIT 1"
