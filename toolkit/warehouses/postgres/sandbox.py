"""Analysts' sandboxes on PostgreSQL (docs/sandboxes.md).

A sandbox is a schema ``sb_<user>__<transformation>`` and a login role of the same name. The
warehouse user creates the schema with the transformation's inputs as views it owns (so the
login reads them without any grant on their sources) and the login: a fresh generated password
(only its SCRAM verifier is sent to the server; the password goes to the secret store, never
into a warehouse table), NOINHERIT, no CREATEROLE/CREATEDB, member of no role, ``search_path``
set to its schema, USAGE and CREATE on that schema only. ``confine`` then checks that the login
reaches no other Headrace schema (in_, out_, dm_, tr_, other sandboxes, headrace_meta) and can
switch to no role; a finding fails the create and removes the sandbox.

Whatever runs in the sandbox (``headrace sandbox run``, a SQL client) runs as that login. The
warehouse user only creates and drops: it never reads what the login made.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from headrace.connectors.postgres import connect
from headrace.errors import ConfigError, TaskFailed, TransientError
from headrace.sqltext import ident, literal
from headrace.warehouses.base import SandboxLogin, SandboxSession
from headrace.warehouses.postgres import CAPABILITIES, roles
from headrace.warehouses.postgres.session import Statements, create_with_inputs

if TYPE_CHECKING:
    from headrace.warehouses.postgres.warehouse import PostgresWarehouse

D = CAPABILITIES.dialect
COMMENT = roles.MANAGED + ": sandbox"
CONNECTIONS = 5  # a SQL client or two, and `headrace sandbox run`

# relations the login itself made in its schema (the inputs are the warehouse user's views)
_OWN = """
SELECT c.relname, c.relkind FROM pg_class AS c
WHERE c.relnamespace = %s::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND c.relowner = current_user::regrole
ORDER BY 1
"""
_DROP = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}


def password_key(wh: PostgresWarehouse, role: str) -> str:
    """The secret store's name of a sandbox login's password (logins belong to a server)."""
    return f"postgres-sandbox/{wh.settings.get('host')}:{int(wh.settings.get('port') or 5432)}/{role}"


def login(wh: PostgresWarehouse, name: str, password: str | None = None) -> SandboxLogin:
    fields = {
        "host": wh.settings.get("host"),
        "port": int(wh.settings.get("port") or 5432),
        "database": wh.settings.get("database"),
        "user": name,
        "schema": name,
    }
    client = f'psql "host={fields["host"]} port={fields["port"]} dbname={fields["database"]} user={name}"'
    return SandboxLogin(fields, client, password, password_key(wh, name))


def create(wh: PostgresWarehouse, name: str, inputs: dict[str, str]) -> SandboxLogin:
    password = roles.new_password()
    key = password_key(wh, name)
    schema = ident(name, D)
    try:
        with wh.transaction(), wh.con.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (roles.ROLE_LOCK,))
            if roles.role_exists(cur, name):
                raise ConfigError(
                    f"a role {name} exists already on the server: drop the sandbox (`headrace sandbox drop`) "
                    "or, if it is not a sandbox, rename that role"
                )
            cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,))
            if cur.fetchone() is not None:
                raise ConfigError(f"a schema {name} exists already and is no sandbox Headrace knows: drop or rename it")
            create_with_inputs(wh, cur, name, inputs)
            wh.store.write(key, password)  # first: a login never exists whose password is lost
            verifier = literal(roles.password_verifier(cur, name, password), D)
            cur.execute(
                f"CREATE ROLE {schema} LOGIN NOINHERIT NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION "
                f"NOBYPASSRLS CONNECTION LIMIT {CONNECTIONS} PASSWORD {verifier}"
            )
            cur.execute(f"COMMENT ON ROLE {schema} IS {literal(COMMENT, D)}")
            cur.execute(f"GRANT {schema} TO CURRENT_USER")  # the warehouse user may drop what it owns
            cur.execute(f"ALTER ROLE {schema} SET search_path TO {schema}")
            cur.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {schema}")
            cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {schema}")
            problems = confine(cur, name)
            if problems:
                raise ConfigError(
                    f"warehouse: the sandbox login {name} could reach outside its schema: {'; '.join(problems)}. "
                    "Revoke that (e.g. REVOKE CREATE ON SCHEMA public FROM PUBLIC, PostgreSQL 15's default) "
                    "with the owner of the schema; see docs/postgres.md"
                )
    except BaseException:
        wh.store.delete(key)
        raise
    return login(wh, name)


def confine(cur: Any, role: str) -> list[str]:
    """What ``role`` could reach outside its own schema (``roles.confine``) or switch to, as messages."""
    problems = roles.confine(cur, role, role)
    cur.execute(
        "SELECT b.rolname FROM pg_auth_members AS m JOIN pg_roles AS b ON b.oid = m.roleid "
        "JOIN pg_roles AS r ON r.oid = m.member WHERE r.rolname = %s ORDER BY 1",
        (role,),
    )
    problems += [f"it is a member of role {name}" for (name,) in cur.fetchall()]
    cur.execute(
        "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolinherit "
        "FROM pg_roles WHERE rolname = %s",
        (role,),
    )
    row = cur.fetchone()
    if row is None or row[0]:
        problems.append("it has a role attribute beyond LOGIN (superuser, createrole, createdb, bypassrls or inherit)")
    return problems


def drop(wh: PostgresWarehouse, name: str) -> None:
    with wh.transaction(), wh.con.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (roles.ROLE_LOCK,))
        cur.execute(f"DROP SCHEMA IF EXISTS {ident(name, D)} CASCADE")
        if roles.role_exists(cur, name):
            cur.execute("SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (name,))
            if cur.fetchone()[0] != COMMENT:
                raise TaskFailed(f"role {name} was not created by Headrace for a sandbox: it was left alone")
            roles.drop_working_role(cur, name)  # ends its sessions, drops what it owns here, drops it
    wh.store.delete(password_key(wh, name))


def in_use(wh: PostgresWarehouse, names: Sequence[str]) -> set[str]:
    rows = wh.run("SELECT DISTINCT usename FROM pg_stat_activity WHERE usename = ANY(%s)", (list(names),))
    return {name for (name,) in rows.fetchall()}


class PostgresSandboxSession(Statements, SandboxSession):
    """A connection logged in as the sandbox's own role."""

    def __init__(self, schema: str, con: Any):
        self.schema = schema
        self.con = con

    def _own(self) -> list[tuple[str, str]]:
        return [(n, k) for n, k in self.con.execute(_OWN, (ident(self.schema, D),)).fetchall()]

    def reset(self) -> None:
        for name, kind in self._own():
            self.execute(f"DROP {_DROP.get(kind, 'TABLE')} IF EXISTS {ident(self.schema, D)}.{ident(name, D)} CASCADE")

    def made(self) -> dict[str, int]:
        found = {}
        for name, _ in self._own():
            row = self.con.execute(f"SELECT count(*) FROM {ident(self.schema, D)}.{ident(name, D)}").fetchone()
            found[name] = int(row[0])
        return found


@contextmanager
def session(wh: PostgresWarehouse, name: str, timeout_s: float | None) -> Iterator[PostgresSandboxSession]:
    password = wh.store.read(password_key(wh, name))
    if password is None:
        raise ConfigError(
            f"the password of sandbox {name} is not in the secret store ({password_key(wh, name)}): "
            "drop the sandbox and create it again"
        )
    try:
        con = connect({**wh.settings, "user": name, "password": password}, "sandbox", "headrace-sandbox")
    except (ConfigError, TransientError, TaskFailed) as exc:
        raise type(exc)(
            f"{exc} (the sandbox logs in as its own role {name}: the server's pg_hba.conf must admit it; "
            "see docs/sandboxes.md)"
        ) from None
    try:
        if timeout_s:
            con.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
        yield PostgresSandboxSession(name, con)
    finally:
        con.close()
