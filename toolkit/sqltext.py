"""SQL text: identifiers, string literals and generated names, quoted by sqlglot for a dialect.

Every piece of SQL Headrace writes with a name or a value in it quotes through here, so a
table called ``order "items"`` or a value with a quote means the same on every warehouse.
``dialect`` is a sqlglot dialect name (``Capabilities.dialect``: duckdb, postgres, ...).
"""

from __future__ import annotations

import hashlib

from sqlglot import exp


def ident(name: str, dialect: str) -> str:
    """``name`` as a quoted identifier (embedded quotes doubled, case and spaces kept)."""
    return exp.to_identifier(name, quoted=True).sql(dialect)


def qualified(schema: str, table: str, dialect: str) -> str:
    """``schema.table`` with both parts quoted."""
    return f"{ident(schema, dialect)}.{ident(table, dialect)}"


def literal(value: str, dialect: str) -> str:
    """``value`` as a string literal. PostgreSQL cannot hold a NUL character: refused with a ValueError."""
    if "\x00" in value and dialect == "postgres":
        raise ValueError("a NUL character cannot be sent to PostgreSQL")
    return exp.Literal.string(value).sql(dialect)


def short_name(prefix: str, name: str, max_bytes: int) -> str:
    """``prefix + name``, cut to ``max_bytes`` bytes with a hash suffix when longer (unique per name)."""
    full = prefix + name
    if len(full.encode()) <= max_bytes:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:8]
    return full.encode()[: max_bytes - 9].decode(errors="ignore") + "_" + digest
