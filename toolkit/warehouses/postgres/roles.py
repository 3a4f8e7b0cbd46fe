"""Roles: a throwaway role per transformation run, read-only logins per datamart reader.

Reader logins get a generated password. Only its SCRAM verifier, computed by libpq
(``PQencryptPasswordConn``), is sent to the server (the plain password never appears in a
statement or a server log); the password itself
is kept in ``headrace_meta.credentials``, readable by the warehouse's own user only, and
shown by ``headrace datamart credentials <id>``. A role that already exists and was not
created by Headrace keeps its password: Headrace only grants it access.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from headrace.sqltext import ident, literal, short_name
from headrace.warehouses.base import META
from headrace.warehouses.postgres import CAPABILITIES

D = CAPABILITIES.dialect
ROLE_LOCK = 0x4865_6164  # advisory lock serialising CREATE ROLE between parallel tasks
MANAGED = "managed by headrace"


def password_verifier(cur: Any, role: str, password: str) -> str:
    """What the server stores for ``password`` (SCRAM-SHA-256), made by libpq on this connection."""
    verifier: bytes = cur.connection.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    return verifier.decode()


def new_password() -> str:
    return secrets.token_urlsafe(24)


def role_exists(cur: Any, role: str) -> bool:
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    return cur.fetchone() is not None


def working_role(schema: str) -> str:
    return short_name("hr_", schema, CAPABILITIES.max_identifier_length)


def create_working_role(cur: Any, schema: str) -> str:
    """A NOLOGIN role that may use only ``schema``; the warehouse user becomes a member (for SET ROLE)."""
    role = working_role(schema)
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (ROLE_LOCK,))
    if role_exists(cur, role):
        drop_working_role(cur, role)
    cur.execute(f"CREATE ROLE {ident(role, D)} NOLOGIN NOINHERIT")
    cur.execute(f"COMMENT ON ROLE {ident(role, D)} IS {literal(MANAGED + ': transformation working role', D)}")
    cur.execute(f"GRANT {ident(role, D)} TO CURRENT_USER")
    cur.execute(f"GRANT USAGE, CREATE ON SCHEMA {ident(schema, D)} TO {ident(role, D)}")
    cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {ident(schema, D)} TO {ident(role, D)}")
    return role


def drop_working_role(cur: Any, role: str) -> None:
    if role_exists(cur, role):
        cur.execute(f"DROP OWNED BY {ident(role, D)} CASCADE")
        cur.execute(f"DROP ROLE {ident(role, D)}")


def ensure_readers(cur: Any, schema: str, datamart: str, readers: Sequence[str]) -> None:
    """Logins for ``readers`` exist and read ``schema`` only; former readers lose access."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (ROLE_LOCK,))
    for reader in readers:
        if not role_exists(cur, reader):
            password = new_password()
            verifier = literal(password_verifier(cur, reader, password), D)
            cur.execute(f"CREATE ROLE {ident(reader, D)} LOGIN NOINHERIT PASSWORD {verifier}")
            cur.execute(f"COMMENT ON ROLE {ident(reader, D)} IS {literal(MANAGED + ': datamart reader', D)}")
            cur.execute(
                f"INSERT INTO {META}.credentials (role, datamart, password, created_at) VALUES (%s, %s, %s, now()) "
                "ON CONFLICT (role) DO UPDATE SET password = EXCLUDED.password, datamart = EXCLUDED.datamart, "
                "created_at = EXCLUDED.created_at",
                (reader, datamart, password),
            )
        cur.execute(f"GRANT USAGE ON SCHEMA {ident(schema, D)} TO {ident(reader, D)}")
        cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {ident(schema, D)} TO {ident(reader, D)}")
    cur.execute(
        "SELECT DISTINCT pg_get_userbyid(a.grantee) FROM pg_namespace AS n, aclexplode(n.nspacl) AS a "
        "WHERE n.nspname = %s AND a.grantee <> n.nspowner AND a.grantee <> 0",
        (schema,),
    )
    for (former,) in cur.fetchall():
        if former not in readers:
            cur.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {ident(schema, D)} FROM {ident(former, D)}")
            cur.execute(f"REVOKE ALL ON SCHEMA {ident(schema, D)} FROM {ident(former, D)}")


def stored_passwords(cur: Any, readers: Sequence[str]) -> dict[str, str | None]:
    """Reader -> password Headrace generated (None for a login it did not create)."""
    cur.execute(f"SELECT role, password FROM {META}.credentials WHERE role = ANY(%s)", (list(readers),))
    known = dict(cur.fetchall())
    return {reader: known.get(reader) for reader in readers}
