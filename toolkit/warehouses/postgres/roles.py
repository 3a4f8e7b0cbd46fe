"""Roles: a throwaway login per transformation run, read-only logins per datamart reader.

A transformation's working role ``hr_<schema>`` is a LOGIN with a fresh random password,
NOINHERIT, no CREATEROLE/CREATEDB, member of no role, valid for the task's timeout and at
most ``WORKING_CONNECTIONS`` sessions. It may use and create in its working schema only; the
inputs are views there owned by the warehouse user. The warehouse user is made a member of it
(to drop what it owns, end its sessions and read its outputs), never the other way round.

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
WORKING_CONNECTIONS = 2  # the transformation's session, and room for a reconnect after a failure


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


def create_working_role(cur: Any, schema: str, password: str, valid_for_s: float) -> str:
    """The working role of ``schema``: may log in with ``password`` until ``valid_for_s`` from now,
    use and create in ``schema`` and read the relations already in it. A leftover is replaced."""
    role = working_role(schema)
    name = ident(role, D)
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (ROLE_LOCK,))
    drop_working_role(cur, role)
    cur.execute("SELECT (now() + make_interval(secs => %s))::text", (float(valid_for_s),))
    until = cur.fetchone()[0]
    verifier = literal(password_verifier(cur, role, password), D)
    cur.execute(
        f"CREATE ROLE {name} LOGIN NOINHERIT NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION "
        f"CONNECTION LIMIT {WORKING_CONNECTIONS} VALID UNTIL {literal(until, D)} PASSWORD {verifier}"
    )
    cur.execute(f"COMMENT ON ROLE {name} IS {literal(MANAGED + ': transformation working role', D)}")
    cur.execute(f"GRANT {name} TO CURRENT_USER")  # the warehouse user may act for it, not the reverse
    cur.execute(f"GRANT USAGE, CREATE ON SCHEMA {ident(schema, D)} TO {name}")
    cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {ident(schema, D)} TO {name}")
    return role


def drop_working_role(cur: Any, role: str) -> None:
    """End the role's sessions, drop what it owns (in this database) and the role, if it exists."""
    if role_exists(cur, role):
        end_sessions(cur, role)
        cur.execute(f"DROP OWNED BY {ident(role, D)} CASCADE")
        cur.execute(f"DROP ROLE {ident(role, D)}")


def end_sessions(cur: Any, role: str) -> None:
    """No session of ``role`` runs or can start any more (before its outputs are read)."""
    cur.execute(f"ALTER ROLE {ident(role, D)} NOLOGIN")
    cur.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE usename = %s", (role,))


HEADRACE_SCHEMAS = f"(n.nspname = '{META}' OR n.nspname ~ '^(in|out|dm|tr|sb)_')"


def confine(cur: Any, role: str, schema: str) -> list[str]:
    """Take from PUBLIC what would let ``role`` into Headrace's other schemas (where the warehouse
    user owns them); what ``role`` could still reach outside ``schema``, as messages."""
    visible = (
        f"SELECT n.nspname FROM pg_namespace AS n WHERE {HEADRACE_SCHEMAS} AND n.nspname <> %s "
        "AND has_schema_privilege(%s, n.oid, 'USAGE') ORDER BY 1"
    )
    cur.execute(visible, (schema, role))
    for (name,) in cur.fetchall():
        cur.execute(
            "SELECT pg_has_role(nspowner, 'USAGE') FROM pg_namespace WHERE nspname = %s",
            (name,),
        )
        if cur.fetchone()[0]:
            cur.execute(f"REVOKE ALL ON SCHEMA {ident(name, D)} FROM PUBLIC")
    problems = []
    cur.execute(visible, (schema, role))
    problems += [f"schema {name} is usable by every role (PUBLIC)" for (name,) in cur.fetchall()]
    cur.execute(
        "SELECT n.nspname FROM pg_namespace AS n WHERE n.nspname <> %s AND n.nspname !~ '^pg_(temp|toast_temp)_' "
        "AND has_schema_privilege(%s, n.oid, 'CREATE') ORDER BY 1",
        (schema, role),
    )
    problems += [f"every role (PUBLIC) may create objects in schema {name}" for (name,) in cur.fetchall()]
    return problems


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
