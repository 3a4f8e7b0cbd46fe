"""A transformation's own login on PostgreSQL (``PostgresWarehouse.transformation_session``).

The warehouse user (administrative connection) creates the working schema with views of the
declared inputs, and a throwaway login role that may use only that schema (``roles``). The
transformation's SQL runs on a second connection logged in as that role: it has no role to
switch to, no CREATEROLE, and no privilege on any other Headrace schema, so what it may do is
decided by PostgreSQL's grants, not by reading its SQL. Its outputs are then copied to
``out_<id>`` by the warehouse user after the role's sessions have ended, and only when they are
plain tables of built-in types without row security (so copying them runs no code the
transformation wrote with the warehouse user's rights).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from headrace.connectors.postgres import connect
from headrace.errors import ConfigError, TaskFailed, TransientError
from headrace.warehouses.base import SessionLogin, StatementFailed, TransformationSession, capped
from headrace.warehouses.postgres import roles

if TYPE_CHECKING:
    from headrace.warehouses.postgres.warehouse import PostgresWarehouse

ROLE_MARGIN_S = 600  # the login stays valid this long past the task's timeout
DEFAULT_VALID_S = 24 * 3600  # without a known timeout
DENIED = {"42501"}  # insufficient_privilege
MISSING = {"42P01", "3F000"}  # undefined_table, invalid_schema_name

# outputs the warehouse user can copy without running code of the transformation
_OUTPUTS = """
SELECT c.relname, c.relkind = 'r' AND NOT c.relrowsecurity,
       coalesce(array_agg(a.attname || ' (' || t.typname || ')' ORDER BY a.attnum)
                FILTER (WHERE t.typnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)),
                '{}')
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_type AS t ON t.oid = a.atttypid
WHERE n.nspname = %s AND c.relname = ANY(%s)
GROUP BY c.relname, c.relkind, c.relrowsecurity
"""


class Statements:
    """Statements on a confined login's connection ``con`` (a transformation's or a sandbox's), its
    refusals as ``StatementFailed`` with their kind."""

    con: Any

    def execute(self, sql: str) -> None:
        self._run(sql)

    def query(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._run(capped(sql, limit))
        return [d.name for d in cursor.description or []], cursor.fetchall()

    def _run(self, sql: str) -> Any:
        import psycopg

        try:
            return self.con.execute(sql)
        except psycopg.Error as exc:
            text = str(exc).strip()
            message = text.splitlines()[0] if text else type(exc).__name__
            state = getattr(exc, "sqlstate", None)
            kind = "denied" if state in DENIED else "missing" if state in MISSING else None
            raise StatementFailed(message, kind) from exc


class PostgresSession(Statements, TransformationSession):
    def __init__(self, warehouse: PostgresWarehouse, schema: str, role: str, password: str, con: Any):
        self.warehouse = warehouse
        self.schema = schema
        self.role = role
        self._password = password
        self.con: Any = con

    @contextmanager
    def login(self, connections: int) -> Iterator[SessionLogin]:
        """The throwaway role's own login (never the warehouse user's), allowed ``connections`` more
        connections beside this session's; its search path is the working schema."""
        wh = self.warehouse
        with wh.con.cursor() as cur:
            limit = int(connections) + roles.WORKING_CONNECTIONS
            cur.execute(f"ALTER ROLE {wh.quote(self.role)} CONNECTION LIMIT {limit}")
        settings = wh.settings
        yield SessionLogin(
            {
                "host": settings["host"],
                "port": int(settings.get("port") or 5432),
                "dbname": settings["database"],
                "user": self.role,
                "schema": self.schema,
                "sslmode": settings.get("sslmode") or "prefer",
            },
            {"password": self._password},
            self.schema,
        )

    def table_exists(self, name: str) -> bool:
        row = self.con.execute("SELECT to_regclass(%s) IS NOT NULL", (self.warehouse.qualified(self.schema, name),))
        return bool(row.fetchone()[0])

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def publish(self, target_schema: str, tables: Sequence[str]) -> dict[str, int]:
        sources = self._plain_tables(tables)
        self.close()
        wh = self.warehouse
        with wh.transaction(), wh.con.cursor() as cur:
            roles.end_sessions(cur, self.role)
            cur.execute("SET LOCAL row_security = off")  # a policy would fail the copy, never run
            cur.execute(_OUTPUTS, (self.schema, list(sources.values())))
            checked = {name: (plain, foreign) for name, plain, foreign in cur.fetchall()}
            for table, source in sources.items():
                plain, foreign = checked.get(source, (False, []))
                if foreign:
                    raise TaskFailed(
                        f"output {table}: column(s) {', '.join(foreign)} have a type made by the transformation; "
                        "cast them to built-in types (text, numeric, ...) in the CREATE TABLE of the output"
                    )
                if not plain:
                    raise TaskFailed(f"output {table} changed after the transformation ended; it was not published")
            relations = {t: f"ONLY {wh.qualified(self.schema, s)}" for t, s in sources.items()}
            return wh.publish_relations(target_schema, relations)

    def _plain_tables(self, tables: Sequence[str]) -> dict[str, str]:
        """Output -> table to publish it from: the output itself when it is a plain table, else a
        copy made here, with the transformation's rights (views, row security, partitions)."""
        wh = self.warehouse
        rows = self.con.execute(_OUTPUTS, (self.schema, list(tables))).fetchall()
        plain = {name for name, is_plain, _ in rows if is_plain}
        sources = {}
        for table in tables:
            if table in plain:
                sources[table] = table
                continue
            copy = wh.short_name("_hr_publish_", table)
            self.execute(f"DROP TABLE IF EXISTS {wh.qualified(self.schema, copy)}")
            self.execute(f"CREATE TABLE {wh.qualified(self.schema, copy)} AS TABLE {wh.qualified(self.schema, table)}")
            sources[table] = copy
        return sources


def create_with_inputs(wh: PostgresWarehouse, cur: Any, schema: str, inputs: dict[str, str]) -> None:
    """Schema ``schema``, closed to PUBLIC, with a view per input (local name -> schema.table) owned
    by the warehouse user: a login granted only this schema reads the inputs through the views."""
    cur.execute(f"CREATE SCHEMA {wh.quote(schema)}")
    cur.execute(f"REVOKE ALL ON SCHEMA {wh.quote(schema)} FROM PUBLIC")
    for name, source in inputs.items():
        src_schema, src_table = source.split(".")
        cur.execute(f"CREATE VIEW {wh.qualified(schema, name)} AS SELECT * FROM {wh.qualified(src_schema, src_table)}")


@contextmanager
def transformation_session(
    wh: PostgresWarehouse, schema: str, inputs: dict[str, str], timeout_s: float | None
) -> Iterator[PostgresSession]:
    password = roles.new_password()
    valid_s = (timeout_s + ROLE_MARGIN_S) if timeout_s else DEFAULT_VALID_S
    session: PostgresSession | None = None
    try:
        with wh.transaction(), wh.con.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {wh.quote(schema)} CASCADE")
            create_with_inputs(wh, cur, schema, inputs)
            role = roles.create_working_role(cur, schema, password, valid_s)
            problems = roles.confine(cur, role, schema)
            if problems:
                raise ConfigError(
                    f"warehouse: a transformation's role could reach outside its schema: {'; '.join(problems)}. "
                    "Revoke it (e.g. REVOKE CREATE ON SCHEMA public FROM PUBLIC, PostgreSQL 15's default) "
                    "with the owner of the schema; see docs/postgres.md"
                )
        con = _login(wh.settings, role, password)
        session = PostgresSession(wh, schema, role, password, con)
        session.con.execute(f"SET search_path TO {wh.quote(schema)}")
        if timeout_s:
            session.con.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
        yield session
    finally:
        if session is not None:
            session.close()
        wh.drop_schema(schema)


def _login(settings: dict[str, Any], role: str, password: str) -> Any:
    try:
        return connect({**settings, "user": role, "password": password}, "transformation", "headrace-transformation")
    except (ConfigError, TransientError, TaskFailed) as exc:
        raise type(exc)(
            f"{exc} (the transformation logs in as its own role {role}, at the same host and database as "
            "the warehouse user: the server's pg_hba.conf must admit it; see docs/postgres.md)"
        ) from None
