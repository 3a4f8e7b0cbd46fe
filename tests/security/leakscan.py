"""Find known secret values anywhere: outputs, files (gzip parts opened), DuckDB and PostgreSQL tables.

Each finder returns one line per hit naming where it was and in which form, so a failing
assertion says exactly what leaked where.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus


def forms(secret: str) -> dict[str, str]:
    """The ways a value can show up: as written, percent-encoded (a URL), base64 (an auth header)."""
    return {
        "plain": secret,
        "url-encoded": quote(secret, safe=""),
        "url-encoded (+)": quote_plus(secret),
        "base64": base64.b64encode(secret.encode()).decode(),
    }


def in_text(where: str, text: str, secrets: dict[str, str]) -> list[str]:
    return [
        f"{label} ({form}) in {where}"
        for label, secret in secrets.items()
        for form, value in forms(secret).items()
        if value in text
    ]


def in_outputs(outputs: dict[str, str], secrets: dict[str, str]) -> list[str]:
    return [hit for where, text in outputs.items() for hit in in_text(where, text, secrets)]


def _contents(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return data + gzip.decompress(data)
        except (OSError, EOFError):
            return data
    return data


def in_files(roots: Iterable[Path], secrets: dict[str, str], skip: Iterable[Path] = ()) -> list[str]:
    """Every file under ``roots`` (except ``skip``: the files meant to hold the secrets)."""
    skipped = {p.resolve() for p in skip}
    hits, seen = [], 0
    for root in roots:
        for path in sorted(root.rglob("*")) if root.exists() else []:
            if not path.is_file() or path.is_symlink() or path.resolve() in skipped:
                continue
            seen += 1
            text = _contents(path).decode("utf-8", errors="replace")
            hits += in_text(str(path), text, secrets)
    assert seen, f"nothing to scan under {list(roots)}: the scan would prove nothing"
    return hits


def in_duckdb(path: Path, secrets: dict[str, str]) -> list[str]:
    """Every row of every table and view of every schema of a DuckDB file."""
    import duckdb

    hits = []
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = current_database()"
        ).fetchall()
        assert tables, f"{path} has no tables: the scan would prove nothing"
        for schema, table in tables:
            rows = con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            hits += in_text(f"duckdb {schema}.{table}", "\n".join(map(str, rows)), secrets)
    finally:
        con.close()
    return hits


def in_postgres(server: Any, database: str, secrets: dict[str, str]) -> list[str]:
    """Every row of every table of every schema, comments on objects and roles, role settings."""
    hits = []
    with server.connect(database) as con:
        tables = con.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert tables, f"{database} has no tables: the scan would prove nothing"
        for schema, table in tables:
            rows = con.execute(f'SELECT t::text FROM "{schema}"."{table}" AS t').fetchall()
            hits += in_text(f"postgres {database}: {schema}.{table}", "\n".join(r[0] for r in rows), secrets)
        for where, sql in {
            "pg_roles comments": "SELECT rolname || ': ' || coalesce(shobj_description(oid, 'pg_authid'), '') "
            "FROM pg_roles",
            "object comments": "SELECT description FROM pg_description",
            "role settings": "SELECT coalesce(array_to_string(setconfig, ','), '') FROM pg_db_role_setting",
        }.items():
            rows = con.execute(sql).fetchall()
            hits += in_text(f"postgres {database}: {where}", "\n".join(r[0] for r in rows), secrets)
    return hits
