"""Roles: a throwaway role per transformation run, read-only logins per datamart reader.

Reader logins get a generated password. Only its SCRAM verifier, computed by libpq
(``PQencryptPasswordConn``), is sent to the server (the plain password never appears in a
statement or a server log); the password itself is kept in the secret store
(``headrace.secretstore``), never in a warehouse table, and shown by
``headrace datamart credentials <id>``. A role that already exists and was not created by
Headrace keeps its password: Headrace only grants it access.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from headrace.redaction import remember
from headrace.secretstore import SecretStore
from headrace.sqltext import ident, literal, short_name
from headrace.warehouses.base import META
from headrace.warehouses.postgres import CAPABILITIES

D = CAPABILITIES.dialect
ROLE_LOCK = 0x4865_6164  # advisory lock serialising CREATE ROLE between parallel tasks
MANAGED = "managed by headrace"
READER_COMMENT = MANAGED + ": datamart reader"


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


def _role_comment(cur: Any, role: str) -> str | None:
    cur.execute("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (role,))
    row = cur.fetchone()
    return row[0] if row else None


def _set_reader_password(cur: Any, reader: str, store: SecretStore, key: str, create: bool) -> None:
    """A new password for ``reader``: into the store first, so a login never exists whose password is lost."""
    password = new_password()
    store.write(key, password)
    verifier = literal(password_verifier(cur, reader, password), D)
    if create:
        cur.execute(f"CREATE ROLE {ident(reader, D)} LOGIN NOINHERIT PASSWORD {verifier}")
        cur.execute(f"COMMENT ON ROLE {ident(reader, D)} IS {literal(READER_COMMENT, D)}")
    else:
        cur.execute(f"ALTER ROLE {ident(reader, D)} PASSWORD {verifier}")


def ensure_readers(
    cur: Any, schema: str, readers: Sequence[str], store: SecretStore, key: Callable[[str], str]
) -> None:
    """Logins for ``readers`` exist and read ``schema`` only; former readers lose access.

    A new login's password goes to ``store`` under ``key(reader)``. A login Headrace created
    whose password the store does not hold (the store was lost) gets a new one; a login
    Headrace did not create keeps its password.
    """
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (ROLE_LOCK,))
    for reader in readers:
        if not role_exists(cur, reader):
            _set_reader_password(cur, reader, store, key(reader), create=True)
        elif _role_comment(cur, reader) == READER_COMMENT and store.read(key(reader)) is None:
            _set_reader_password(cur, reader, store, key(reader), create=False)
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


def stored_passwords(readers: Sequence[str], store: SecretStore, key: Callable[[str], str]) -> dict[str, str | None]:
    """Reader -> password Headrace generated, from the secret store (None for a login it did not create)."""
    return {reader: store.read(key(reader)) for reader in readers}


def move_meta_passwords(cur: Any, store: SecretStore, key: Callable[[str], str]) -> None:
    """Warehouses from before the secret store kept reader passwords in ``headrace_meta.credentials``:
    move them into the store and drop the table (once; a no-op afterwards)."""
    cur.execute(f"SELECT to_regclass('{META}.credentials') IS NOT NULL")
    if not cur.fetchone()[0]:
        return
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (ROLE_LOCK,))
    cur.execute(f"SELECT to_regclass('{META}.credentials') IS NOT NULL")
    if not cur.fetchone()[0]:
        return
    cur.execute(f"SELECT role, password FROM {META}.credentials")
    for role, password in cur.fetchall():
        remember(password)
        store.write(key(role), password)
    cur.execute(f"DROP TABLE {META}.credentials")
