"""The PostgreSQL warehouse: the hooks of ``SqlWarehouse`` over one psycopg connection.

The connection runs in autocommit; every change that must be atomic (a load with its
incremental cursor and its ``table_loads`` row, a publish, a datamart) runs inside one
explicit transaction, so a killed process leaves the previous state. Transformation SQL
runs on a second connection that logs in as a throwaway role confined to the working schema
(``session``); this connection only manages that role.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from headrace.connectors.postgres import connect, describe_target
from headrace.secretstore import SecretStore, open_secret_store
from headrace.storage.base import Storage
from headrace.tablefiles import TableSchema
from headrace.warehouses.base import LoadRequest, SandboxLogin, SandboxSession, StoredPart, TransformationSession
from headrace.warehouses.common.sqlwarehouse import Cursor, SqlWarehouse
from headrace.warehouses.postgres import CAPABILITIES, PostgresConfig, copy, export, parallel, roles, sandbox, session
from headrace.warehouses.postgres.swap import swap

LOCK_CLASS = 0x4865_6164  # advisory locks (class, hashtext(key)): creating headrace_meta, loading a table
MERGE_SINCE = 150000  # server_version_num of the first PostgreSQL with MERGE


def open(config: PostgresConfig, state_dir: Path) -> PostgresWarehouse:
    return PostgresWarehouse(config.model_dump(), open_secret_store(state_dir))


class PostgresWarehouse(SqlWarehouse):
    capabilities = CAPABILITIES
    param = "%s"
    temp_schema = "pg_temp"
    seq_column = "_headrace_seq bigint GENERATED ALWAYS AS IDENTITY"  # COPY fills it in file order
    seq = "_headrace_seq"

    def __init__(self, config: dict[str, Any], store: SecretStore):
        self.settings = config
        self.store = store  # where reader passwords are kept (never in a warehouse table)
        self.con = connect(config, "warehouse")
        # MERGE came with PostgreSQL 15; older servers merge with UPDATE + INSERT
        self.capabilities = dataclasses.replace(CAPABILITIES, merge=self.con.info.server_version >= MERGE_SINCE)
        self.ensure_meta()
        with self.transaction(), self.con.cursor() as cur:
            roles.move_meta_passwords(cur, self.store, self._reader_key)

    def _reader_key(self, reader: str) -> str:
        """The secret store's name for a reader's password: logins belong to a server, not a database."""
        return f"postgres-reader/{self.settings.get('host')}:{int(self.settings.get('port') or 5432)}/{reader}"

    def close(self) -> None:
        self.con.close()

    def __repr__(self) -> str:
        return f"PostgresWarehouse({describe_target(self.settings)})"

    # -- hooks of SqlWarehouse -------------------------------------------------------------------

    def run(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        return self.con.execute(sql, params)

    def changed(self, sql: str, params: Sequence[Any] | None = None) -> int:
        return max(self.con.execute(sql, params).rowcount, 0)

    def transaction(self) -> AbstractContextManager[Any]:
        return self.con.transaction()

    def lock(self, key: str) -> None:
        self.run("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_CLASS, key))

    def load(self, request: LoadRequest, storage: Storage) -> int:
        """A full or first load of several parts COPYs them in parallel (``parallel``); any other
        load runs in one transaction (``loads``)."""
        if parallel.applies(self, request):
            rows = parallel.load(self, request, storage)
            if rows is not None:
                return rows
        return super().load(request, storage)

    def leftovers(self, now: float, owner_dead: Callable[[str], bool]) -> list[tuple[str, str]]:
        """Also leaves alone the committed stage of a parallel load that is still running."""
        found = super().leftovers(now, owner_dead)
        return [
            (kind, name) for kind, name in found if kind != "table" or not parallel.in_use(self, name.split(".", 1)[1])
        ]

    def insert_part(self, table: str, request: LoadRequest, part: StoredPart, storage: Storage) -> int:
        columns = ", ".join(self.quote(c.name) for c in request.files.columns)
        with self.con.cursor() as cur:
            return copy.insert_part(cur, table, columns, request, part, storage)

    def swap(self, schema: str, stage: str, table: str) -> None:
        with self.con.cursor() as cur:
            swap(cur, schema, stage, table)

    def export_table(self, schema: str, table: str, folder: Path) -> TableSchema:
        return export.export_table(self, schema, table, folder)

    def index_keys(self, table: str, keys: Sequence[str]) -> None:
        self.run(f"CREATE INDEX ON {table} ({', '.join(self.quote(k) for k in keys)})")

    def drop_working_role(self, schema: str) -> None:
        """Works from the schema name alone: a sweep drops the role a killed task left."""
        with self.transaction(), self.con.cursor() as cur:
            roles.drop_working_role(cur, roles.working_role(schema))

    def transformation_session(
        self, work_schema: str, inputs: dict[str, str], timeout_s: float | None = None
    ) -> AbstractContextManager[TransformationSession]:
        return session.transformation_session(self, work_schema, inputs, timeout_s)

    def grant_readers(self, schema: str, readers: Sequence[str]) -> None:
        with self.con.cursor() as cur:
            roles.ensure_readers(cur, schema, readers, self.store, self._reader_key)

    # -- sandboxes (docs/sandboxes.md) ------------------------------------------------------------

    def create_sandbox(self, name: str, inputs: dict[str, str]) -> SandboxLogin:
        return sandbox.create(self, name, inputs)

    def sandbox_login(self, name: str, with_password: bool = False) -> SandboxLogin:
        password = self.store.read(sandbox.password_key(self, name)) if with_password else None
        return sandbox.login(self, name, password)

    def sandbox_session(
        self, name: str, inputs: dict[str, str], timeout_s: float | None = None
    ) -> AbstractContextManager[SandboxSession]:
        return sandbox.session(self, name, timeout_s)  # the inputs are views: always current

    def drop_sandbox(self, name: str) -> None:
        sandbox.drop(self, name)

    def sandboxes_in_use(self, names: Sequence[str]) -> set[str]:
        return sandbox.in_use(self, names)

    # -- what only PostgreSQL does -----------------------------------------------------------------

    def table_exists(self, schema: str, table: str) -> bool:
        # to_regclass sees every relation, also those information_schema hides from the current role
        return bool(self.run("SELECT to_regclass(%s) IS NOT NULL", (self.qualified(schema, table),)).fetchone()[0])

    def relations(self, schema: str) -> dict[str, str]:
        rows = self.run(
            "SELECT c.relname, c.relkind FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
            (schema,),
        ).fetchall()
        kinds = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}
        return {name: kinds.get(kind, "TABLE") for name, kind in rows}

    def reader_credentials(self, readers: Sequence[str]) -> dict[str, dict[str, Any]]:
        with self.con.cursor() as cur:
            passwords = roles.stored_passwords(readers, self.store, self._reader_key)
            out: dict[str, dict[str, Any]] = {}
            for reader in readers:
                out[reader] = {
                    "host": self.settings.get("host"),
                    "port": int(self.settings.get("port") or 5432),
                    "database": self.settings.get("database"),
                    "user": reader,
                    "password": passwords[reader],
                    "exists": roles.role_exists(cur, reader),
                }
        return out
