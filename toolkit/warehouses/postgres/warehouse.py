"""The PostgreSQL warehouse (the ``Warehouse`` interface over one psycopg connection).

The connection runs in autocommit; every change that must be atomic (a load with its
incremental cursor and its ``table_loads`` row, a publish, a datamart) runs inside one
explicit transaction, so a killed process leaves the previous state. Transformation SQL
runs after ``SET ROLE`` to a role that can use only the working schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from headrace import faults
from headrace.errors import TaskFailed
from headrace.storage.base import Storage
from headrace.warehouses.base import META, LoadRequest, TaskRecord, Warehouse
from headrace.warehouses.postgres import CAPABILITIES, PostgresConfig, loading, roles
from headrace.warehouses.postgres.connection import connect, describe_target
from headrace.warehouses.postgres.sql import ident, qualified, short_name
from headrace.warehouses.postgres.swap import swap

META_LOCK = 0x4865_6164_0001  # advisory locks: creating headrace_meta, and one load per table at a time
LOAD_LOCK_CLASS = 0x4865_6164
META_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {META}",
    f"""CREATE TABLE IF NOT EXISTS {META}.task_runs (
        run_id text, task_id text, status text, started_at timestamptz, ended_at timestamptz,
        duration_s double precision, rows bigint, bytes bigint, error text)""",
    f"""CREATE TABLE IF NOT EXISTS {META}.table_loads (
        run_id text, table_name text, mode text, rows bigint, bytes bigint, loaded_at timestamptz)""",
    f"CREATE TABLE IF NOT EXISTS {META}.state (key text PRIMARY KEY, value jsonb, updated_at timestamptz)",
    f"""CREATE TABLE IF NOT EXISTS {META}.credentials (
        role text PRIMARY KEY, datamart text, password text NOT NULL, created_at timestamptz)""",
    f"REVOKE ALL ON SCHEMA {META} FROM PUBLIC",
)
# statements a transformation may not run: they would leave its restricted role
_ROLE_ESCAPE = re.compile(
    r"^\s*(RESET\s+(ROLE|SESSION\s+AUTHORIZATION|ALL)|SET\s+(SESSION\s+|LOCAL\s+)?(ROLE|SESSION\s+AUTHORIZATION))\b"
    r"|\bset_config\s*\(\s*'(role|session_authorization)'",
    re.IGNORECASE,
)


def open(config: PostgresConfig, state_dir: Path) -> PostgresWarehouse:
    return PostgresWarehouse(config.model_dump())


class PostgresWarehouse(Warehouse):
    capabilities = CAPABILITIES

    def __init__(self, config: dict[str, Any]):
        self.settings = config
        self.con = connect(config, "warehouse")
        self._roles: dict[str, str] = {}  # working schema -> its role
        self._active_role: str | None = None
        self._ensure_meta()

    def close(self) -> None:
        self.con.close()

    def _ensure_meta(self) -> None:
        with self.con.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", (f"{META}.credentials",))
            if cur.fetchone()[0] is not None:
                return
            with self.con.transaction():
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (META_LOCK,))
                for statement in META_DDL:
                    cur.execute(statement)

    # -- plain SQL -----------------------------------------------------------------------

    def execute(self, sql: str) -> None:
        if self._active_role and _ROLE_ESCAPE.search(sql):
            raise TaskFailed("a transformation cannot change its role or session authorization")
        with self.con.cursor() as cur:
            cur.execute(sql)

    def query(self, sql: str, limit: int | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.con.cursor() as cur:
            cur.execute(sql)
            columns = [d.name for d in cur.description or []]
            if not columns:
                return [], []
            rows = cur.fetchmany(limit) if limit else cur.fetchall()
            return columns, rows

    def table_exists(self, schema: str, table: str) -> bool:
        with self.con.cursor() as cur:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (qualified(schema, table),))
            return bool(cur.fetchone()[0])

    # -- loads ---------------------------------------------------------------------------

    def load(self, request: LoadRequest, storage: Storage) -> int:
        with self.con.cursor() as cur, self.con.transaction():
            name = f"{request.schema}.{request.table}"
            cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOAD_LOCK_CLASS, name))
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(request.schema)}")
            exists = self.table_exists(request.schema, request.table)
            if request.mode == "full" or not exists:
                rows = loading.load_full(cur, request, storage)
            else:
                loading.check_columns(cur, request)
                rows = (
                    loading.load_merge(cur, request, storage)
                    if request.merges
                    else loading.load_append(cur, request, storage)
                )
            if request.state_key is not None and request.state_value is not None:
                self._set_state(cur, request.state_key, request.state_value)
            cur.execute(
                f"INSERT INTO {META}.table_loads VALUES (%s, %s, %s, %s, %s, now())",
                (request.run_id, name, request.mode, rows, request.files.bytes),
            )
            faults.point("load.before_commit")
        return int(rows)

    # -- state ---------------------------------------------------------------------------

    def get_state(self, key: str) -> Any:
        with self.con.cursor() as cur:
            cur.execute(f"SELECT value FROM {META}.state WHERE key = %s", (key,))
            row = cur.fetchone()
        return row[0] if row else None

    def _set_state(self, cur: Any, key: str, value: Any) -> None:
        cur.execute(
            f"INSERT INTO {META}.state VALUES (%s, %s::jsonb, now()) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
            (key, json.dumps(value, default=str)),
        )

    def reset_state(self, key: str) -> None:
        self.execute_params(f"DELETE FROM {META}.state WHERE key = %s", (key,))

    def execute_params(self, sql: str, params: Sequence[Any]) -> None:
        with self.con.cursor() as cur:
            cur.execute(sql, params)

    # -- transformations -------------------------------------------------------------------

    def create_working_schema(self, schema: str, inputs: dict[str, str]) -> None:
        self._reset_role()
        with self.con.cursor() as cur, self.con.transaction():
            cur.execute(f"DROP SCHEMA IF EXISTS {ident(schema)} CASCADE")
            cur.execute(f"CREATE SCHEMA {ident(schema)}")
            for name, source in inputs.items():
                src_schema, src_table = source.split(".")
                cur.execute(
                    f"CREATE VIEW {qualified(schema, name)} AS SELECT * FROM {qualified(src_schema, src_table)}"
                )
            self._roles[schema] = roles.create_working_role(cur, schema)

    def use_schema(self, schema: str) -> None:
        with self.con.cursor() as cur:
            cur.execute(f"SET search_path TO {ident(schema)}")
            role = self._roles.get(schema)
            if role:
                cur.execute(f"SET ROLE {ident(role)}")
                self._active_role = role

    def _reset_role(self) -> None:
        with self.con.cursor() as cur:
            cur.execute("RESET ROLE")
            cur.execute("RESET search_path")
        self._active_role = None

    def publish_tables(self, source_schema: str, target_schema: str, tables: Sequence[str]) -> dict[str, int]:
        self._reset_role()
        rows: dict[str, int] = {}
        with self.con.cursor() as cur, self.con.transaction():
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(target_schema)}")
            for table in tables:
                stage = short_name("_hr_stage_", table)
                cur.execute(f"DROP TABLE IF EXISTS {qualified(target_schema, stage)}")
                cur.execute(
                    f"CREATE TABLE {qualified(target_schema, stage)} AS SELECT * FROM {qualified(source_schema, table)}"
                )
                rows[table] = max(cur.rowcount, 0)
                swap(cur, target_schema, stage, table)
        return rows

    def drop_schema(self, schema: str) -> None:
        self._reset_role()
        with self.con.cursor() as cur, self.con.transaction():
            cur.execute(f"DROP SCHEMA IF EXISTS {ident(schema)} CASCADE")
            role = self._roles.pop(schema, None)
            if role:
                roles.drop_working_role(cur, role)

    # -- datamarts ------------------------------------------------------------------------

    def publish_datamart(
        self, schema: str, entries: Sequence[tuple[str, str]], materialization: str, readers: Sequence[str] = ()
    ) -> None:
        self._reset_role()
        with self.con.cursor() as cur, self.con.transaction():
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}")
            cur.execute(
                "SELECT c.relname, c.relkind FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
                (schema,),
            )
            for name, kind in cur.fetchall():  # the datamart holds exactly its entries
                what = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}.get(kind, "TABLE")
                cur.execute(f"DROP {what} {qualified(schema, name)}")
            for source, name in entries:
                src_schema, src_table = source.split(".")
                what = "VIEW" if materialization == "view" else "TABLE"
                cur.execute(
                    f"CREATE {what} {qualified(schema, name)} AS SELECT * FROM {qualified(src_schema, src_table)}"
                )
            roles.ensure_readers(cur, schema, schema.removeprefix("dm_"), readers)

    def reader_credentials(self, readers: Sequence[str]) -> dict[str, dict[str, Any]]:
        with self.con.cursor() as cur:
            passwords = roles.stored_passwords(cur, readers)
            out: dict[str, dict[str, Any]] = {}
            for reader in readers:
                exists = roles.role_exists(cur, reader)
                out[reader] = {
                    "host": self.settings.get("host"),
                    "port": int(self.settings.get("port") or 5432),
                    "database": self.settings.get("database"),
                    "user": reader,
                    "password": passwords[reader],
                    "exists": exists,
                }
        return out

    def record_task(self, record: TaskRecord) -> None:
        with self.con.cursor() as cur:
            cur.execute(
                f"INSERT INTO {META}.task_runs VALUES (%s, %s, %s, to_timestamp(%s), to_timestamp(%s), %s, %s, %s, %s)",
                record.row(),
            )

    def __repr__(self) -> str:
        return f"PostgresWarehouse({describe_target(self.settings)})"
