"""SQL text helpers: quoting, portable type DDL, names that fit PostgreSQL's 63 bytes."""

from __future__ import annotations

import hashlib

from headrace.types import parse_type

MAX_NAME = 63
TYPES = {
    "string": "text",
    "integer": "bigint",
    "float": "double precision",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_tz": "timestamptz",
    "json": "jsonb",
    "bytes": "bytea",
}


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    return f"{ident(schema)}.{ident(table)}"


def literal(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a NUL character cannot be sent to PostgreSQL")
    return "'" + value.replace("'", "''") + "'"


def pg_type(portable: str) -> str:
    t = parse_type(portable)
    return f"numeric({t.precision},{t.scale})" if t.name == "decimal" else TYPES[t.name]


def format_name(portable: str) -> str:
    """The type as ``format_type()`` prints it, e.g. ``timestamp with time zone``."""
    spelled = {"timestamp": "timestamp without time zone", "timestamp_tz": "timestamp with time zone"}
    return spelled.get(portable, pg_type(portable))


def short_name(prefix: str, name: str) -> str:
    """``prefix + name`` cut to 63 bytes with a hash suffix when too long."""
    full = prefix + name
    if len(full.encode()) <= MAX_NAME:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:8]
    return full.encode()[: MAX_NAME - 9].decode(errors="ignore") + "_" + digest
