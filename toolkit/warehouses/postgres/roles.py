"""Roles: a throwaway role per transformation run, read-only logins per datamart reader.

Reader logins get a generated password. Only its SCRAM verifier is sent to the server
(the plain password never appears in a statement or a server log); the password itself
is kept in ``headrace_meta.credentials``, readable by the warehouse's own user only, and
shown by ``headrace datamart credentials <id>``. A role that already exists and was not
created by Headrace keeps its password: Headrace only grants it access.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any

from headrace.warehouses.base import META
from headrace.warehouses.postgres.sql import ident, literal, short_name

ROLE_LOCK = 0x4865_6164  # advisory lock serialising CREATE ROLE between parallel tasks
SCRAM_ITERATIONS = 4096
MANAGED = "managed by headrace"


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (accepted by CREATE ROLE ... PASSWORD)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def new_password() -> str:
    return secrets.token_urlsafe(24)


def role_exists(cur: Any, role: str) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    return cur.fetchone() is not None


def working_role(schema: str) -> str:
    return short_name("hr_", schema)


def create_working_role(cur: Any, schema: str) -> str:
    """A NOLOGIN role that may use only ``schema``; the warehouse user becomes a member (for SET ROLE)."""
    role = working_role(schema)
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (ROLE_LOCK,))
    if role_exists(cur, role):
        drop_working_role(cur, role)
    cur.execute(f"CREATE ROLE {ident(role)} NOLOGIN NOINHERIT")
    cur.execute(f"COMMENT ON ROLE {ident(role)} IS {literal(MANAGED + ': transformation working role')}")
    cur.execute(f"GRANT {ident(role)} TO CURRENT_USER")
    cur.execute(f"GRANT USAGE, CREATE ON SCHEMA {ident(schema)} TO {ident(role)}")
    cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {ident(schema)} TO {ident(role)}")
    return role


def drop_working_role(cur: Any, role: str) -> None:
    if role_exists(cur, role):
        cur.execute(f"DROP OWNED BY {ident(role)} CASCADE")
        cur.execute(f"DROP ROLE {ident(role)}")


def ensure_readers(cur: Any, schema: str, datamart: str, readers: Sequence[str]) -> None:
    """Logins for ``readers`` exist and read ``schema`` only; former readers lose access."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (ROLE_LOCK,))
    for reader in readers:
        if not role_exists(cur, reader):
            password = new_password()
            cur.execute(f"CREATE ROLE {ident(reader)} LOGIN NOINHERIT PASSWORD {literal(scram_verifier(password))}")
            cur.execute(f"COMMENT ON ROLE {ident(reader)} IS {literal(MANAGED + ': datamart reader')}")
            cur.execute(
                f"INSERT INTO {META}.credentials (role, datamart, password, created_at) VALUES (%s, %s, %s, now()) "
                "ON CONFLICT (role) DO UPDATE SET password = EXCLUDED.password, datamart = EXCLUDED.datamart, "
                "created_at = EXCLUDED.created_at",
                (reader, datamart, password),
            )
        cur.execute(f"GRANT USAGE ON SCHEMA {ident(schema)} TO {ident(reader)}")
        cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {ident(schema)} TO {ident(reader)}")
    cur.execute(
        "SELECT DISTINCT pg_get_userbyid(a.grantee) FROM pg_namespace AS n, aclexplode(n.nspacl) AS a "
        "WHERE n.nspname = %s AND a.grantee <> n.nspowner AND a.grantee <> 0",
        (schema,),
    )
    for (former,) in cur.fetchall():
        if former not in readers:
            cur.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {ident(schema)} FROM {ident(former)}")
            cur.execute(f"REVOKE ALL ON SCHEMA {ident(schema)} FROM {ident(former)}")


def stored_passwords(cur: Any, readers: Sequence[str]) -> dict[str, str | None]:
    """Reader -> password Headrace generated (None for a login it did not create)."""
    cur.execute(f"SELECT role, password FROM {META}.credentials WHERE role = ANY(%s)", (list(readers),))
    known = dict(cur.fetchall())
    return {reader: known.get(reader) for reader in readers}
