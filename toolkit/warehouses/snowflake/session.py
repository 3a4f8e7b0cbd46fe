"""A transformation's own login on Snowflake (``SnowflakeWarehouse.transformation_session``).

The warehouse user creates the working schema, zero-copy clones of the declared inputs in it,
and a throwaway role and user that may use only that schema (``roles``). The transformation's
SQL runs on a second connection logged in as that user with the run's key pair. Its outputs are
then copied to ``out_<id>`` by the warehouse user after the run's user is disabled: each is
built in a staging table and swapped in (``SWAP WITH``), all of them built before the first swap.
Snowflake views run with their owner's rights, so copying an output the transformation made as
a view reads nothing its role could not read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from headrace.warehouses.base import SessionLogin, StatementFailed, TransformationSession, capped
from headrace.warehouses.snowflake import connect, loads, roles
from headrace.warehouses.snowflake.names import qualified, quote, stored

if TYPE_CHECKING:
    from headrace.warehouses.snowflake.warehouse import SnowflakeWarehouse

DENIED = {"42501"}  # insufficient privileges
MISSING = {"42S02", "02000"}  # does not exist or not authorized; invalid identifier
DEFAULT_MINUTES = 24 * 60


class SnowflakeSession(TransformationSession):
    def __init__(self, warehouse: SnowflakeWarehouse, schema: str, con: Any, args: dict[str, Any] | None = None):
        self.warehouse = warehouse
        self.schema = schema
        self.con: Any = con
        self._args = args or {}  # the run's user's connector arguments (its private key)

    @contextmanager
    def login(self, connections: int) -> Iterator[SessionLogin]:
        yield dbt_login(self._args, self.schema)

    def execute(self, sql: str) -> None:
        self._run(sql)

    def query(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._run(capped(sql, limit))
        return [d[0] for d in cursor.description or []], [tuple(r) for r in cursor.fetchall()]

    def _run(self, sql: str) -> Any:
        from snowflake.connector import errors

        try:
            return self.con.cursor().execute(sql)
        except errors.Error as exc:
            text = (getattr(exc, "msg", None) or str(exc)).strip()
            message = text.splitlines()[0] if text else type(exc).__name__
            state = getattr(exc, "sqlstate", None)
            kind = "denied" if state in DENIED else "missing" if state in MISSING else None
            raise StatementFailed(message, kind) from exc

    def table_exists(self, name: str) -> bool:
        cur = self.con.cursor().execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            (stored(self.schema), stored(name)),
        )
        return int(cur.fetchone()[0]) > 0

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def publish(self, target_schema: str, tables: Sequence[str]) -> dict[str, int]:
        self.close()
        wh = self.warehouse
        for statement in roles.drop_working_role(self.schema):
            wh.run(statement)
        return wh.publish_relations(target_schema, {t: qualified(self.schema, t) for t in tables})


@contextmanager
def transformation_session(
    wh: SnowflakeWarehouse, schema: str, inputs: dict[str, str], timeout_s: float | None
) -> Iterator[SnowflakeSession]:
    minutes = int(timeout_s // 60) + 10 if timeout_s else DEFAULT_MINUTES
    session: SnowflakeSession | None = None
    try:
        wh.run(f"CREATE OR REPLACE SCHEMA {quote(schema)}")
        # only the schema's owner (the warehouse user) grants on what is in it, not the run's role
        wh.run(f"ALTER SCHEMA {quote(schema)} ENABLE MANAGED ACCESS")
        for name, source in inputs.items():
            src_schema, src_table = source.split(".")
            wh.run(f"CREATE TABLE {qualified(schema, name)} CLONE {qualified(src_schema, src_table)}")
        private, public = roles.key_pair()
        role, statements = roles.create_working_role(wh.database, wh.warehouse_name, schema, public, minutes)
        for statement in statements:
            wh.run(statement)
        args = run_args(wh.args, role, schema, private)
        if timeout_s:  # the server stops a statement running past the task's timeout
            args["session_parameters"] = {**args["session_parameters"], "STATEMENT_TIMEOUT_IN_SECONDS": int(timeout_s)}
        con = connect.connect(args, "transformation")
        session = SnowflakeSession(wh, schema, con, args)
        session.execute("USE SECONDARY ROLES NONE")
        session.execute(f"USE SCHEMA {quote(wh.database)}.{quote(schema)}")
        yield session
    finally:
        if session is not None:
            session.close()
        wh.drop_schema(schema)


def run_args(warehouse_args: dict[str, Any], role: str, schema: str, private_key: bytes) -> dict[str, Any]:
    """Connector arguments of a run's own user: the warehouse's, with the run's user, role, schema and key."""
    args = {**warehouse_args, "user": stored(role), "role": stored(role), "schema": stored(schema)}
    args["private_key"] = private_key
    args.pop("password", None)
    return args


def dbt_login(args: dict[str, Any], schema: str) -> SessionLogin:
    """How dbt logs in to the run's schema: as the run's own user and role with its key pair (the
    private key, base64 DER, only in dbt's environment), never as the warehouse user."""
    import base64

    settings = {key: args[key] for key in ("account", "user", "role", "database", "warehouse") if key in args}
    settings["schema"] = args.get("schema", schema)
    for key in ("host", "port", "protocol"):
        if key in args:
            settings[key] = args[key]
    private = base64.b64encode(args["private_key"]).decode() if args.get("private_key") else ""
    return SessionLogin(settings, {"private_key": private}, settings["schema"])


def publish_stage_comment() -> str:
    return loads.stage_comment()
