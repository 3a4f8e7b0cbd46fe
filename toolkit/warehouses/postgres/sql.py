"""SQL text helpers: quoting, portable type DDL, names that fit PostgreSQL's 63 bytes."""

from __future__ import annotations

import hashlib

MAX_NAME = 63


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    return f"{ident(schema)}.{ident(table)}"


def literal(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a NUL character cannot be sent to PostgreSQL")
    return "'" + value.replace("'", "''") + "'"


def short_name(prefix: str, name: str) -> str:
    """``prefix + name`` cut to 63 bytes with a hash suffix when too long."""
    full = prefix + name
    if len(full.encode()) <= MAX_NAME:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:8]
    return full.encode()[: MAX_NAME - 9].decode(errors="ignore") + "_" + digest
