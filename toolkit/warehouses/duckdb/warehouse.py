"""DuckDB: the embedded warehouse for laptops and single machines.

DuckDB lets one process write a database file at a time, so Headrace opens it only
for the warehouse part of a task and waits for the lock when a parallel task holds it.
Every load runs in one transaction: a killed process leaves the previous table intact.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from headrace import faults
from headrace.errors import TaskFailed
from headrace.storage.base import Storage
from headrace.storage.local import local_path
from headrace.tablefiles import TableSchema
from headrace.typemaps import duckdb_type
from headrace.warehouses.base import LOADED_AT, META, RUN_ID, LoadRequest, TaskRecord, Warehouse
from headrace.warehouses.duckdb import CAPABILITIES, DuckDBConfig

LOCK_WAIT_S = 600.0


def open(config: DuckDBConfig, state_dir: Path) -> DuckDBWarehouse:
    path = Path(config.path)
    path = path if path.is_absolute() else state_dir / path
    return DuckDBWarehouse(path, config.memory_limit, config.threads)


def connect_with_lock_wait(path: Path, read_only: bool = False, wait_s: float = LOCK_WAIT_S) -> Any:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise TaskFailed(f"cannot open DuckDB file {path}: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


class DuckDBWarehouse(Warehouse):
    capabilities = CAPABILITIES

    def __init__(self, path: Path, memory_limit: str = "2GB", threads: int | None = None, read_only: bool = False):
        self.path = path
        self.con = connect_with_lock_wait(path, read_only=read_only)
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if not read_only:
            self._ensure_meta()

    def close(self) -> None:
        self.con.close()

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def query(self, sql: str, limit: int | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self.con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
        return columns, rows

    def _ensure_meta(self) -> None:
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {META}")
        self.con.execute(
            f"""CREATE TABLE IF NOT EXISTS {META}.task_runs (
                run_id VARCHAR, task_id VARCHAR, status VARCHAR, started_at TIMESTAMPTZ,
                ended_at TIMESTAMPTZ, duration_s DOUBLE, rows BIGINT, bytes BIGINT, error VARCHAR)"""
        )
        self.con.execute(
            f"""CREATE TABLE IF NOT EXISTS {META}.table_loads (
                run_id VARCHAR, table_name VARCHAR, mode VARCHAR, rows BIGINT, bytes BIGINT,
                loaded_at TIMESTAMPTZ)"""
        )
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {META}.state (key VARCHAR PRIMARY KEY, value JSON, updated_at TIMESTAMPTZ)"
        )

    # -- loads -------------------------------------------------------------------------

    def _read_csv(self, request: LoadRequest) -> str:
        files = [str(local_path(p.uri)) for p in request.parts]
        columns = {
            c.name: ("VARCHAR" if c.type in ("bytes", "json") else duckdb_type(c.type)) for c in request.files.columns
        }
        select = []
        for c in request.files.columns:
            col = self.quote(c.name)
            if c.type == "bytes":
                select.append(f"from_hex(substr({col}, 3)) AS {col}")
            elif c.type == "json":
                select.append(f"CAST({col} AS JSON) AS {col}")
            else:
                select.append(col)
        return (
            f"SELECT {', '.join(select)}, now() AS {LOADED_AT}, {self._lit(request.run_id)} AS {RUN_ID} "
            f"FROM read_csv({self._lit_list(files)}, header = true, auto_detect = false, "
            f"allow_quoted_nulls = false, delim = ',', quote = '\"', escape = '\"', "
            f"compression = 'gzip', columns = {self._struct(columns)})"
        )

    @staticmethod
    def _lit(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def _lit_list(self, values: list[str]) -> str:
        return "[" + ", ".join(self._lit(v) for v in values) + "]"

    def _struct(self, columns: dict[str, str]) -> str:
        return "{" + ", ".join(f"{self._lit(k)}: {self._lit(v)}" for k, v in columns.items()) + "}"

    def _columns_ddl(self, files: TableSchema) -> str:
        cols = [f"{self.quote(c.name)} {duckdb_type(c.type)}" for c in files.columns]
        cols += [f"{LOADED_AT} TIMESTAMPTZ", f"{RUN_ID} VARCHAR"]
        return ", ".join(cols)

    def _existing_columns(self, schema: str, table: str) -> list[str]:
        rows = self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
        return [r[0] for r in rows]

    def load(self, request: LoadRequest, storage: Storage) -> int:
        if storage.capabilities.scheme not in self.capabilities.native_load_schemes:
            raise TaskFailed(f"DuckDB cannot load from {storage.url} yet")  # streaming: next commit
        target = self.qualified(request.schema, request.table)
        stage = self.qualified(request.schema, f"_hr_stage_{request.table}")
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quote(request.schema)}")
            exists = self.table_exists(request.schema, request.table)
            if request.mode == "full" or not exists:
                con.execute(f"DROP TABLE IF EXISTS {stage}")
                con.execute(f"CREATE TABLE {stage} ({self._columns_ddl(request.files)})")
                rows = con.execute(f"INSERT INTO {stage} {self._read_csv(request)}").fetchone()[0]
                con.execute(f"DROP TABLE IF EXISTS {target}")
                con.execute(f"ALTER TABLE {stage} RENAME TO {self.quote(request.table)}")
            else:
                self._check_columns(request)
                if request.merges:
                    rows = self._merge(request, target)
                else:
                    rows = con.execute(f"INSERT INTO {target} {self._read_csv(request)}").fetchone()[0]
            if request.state_key is not None and request.state_value is not None:
                self._set_state(request.state_key, request.state_value)
            con.execute(
                f"INSERT INTO {META}.table_loads VALUES (?, ?, ?, ?, ?, now())",
                [request.run_id, f"{request.schema}.{request.table}", request.mode, rows, request.files.bytes],
            )
            faults.point("load.before_commit")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return int(rows)

    def _check_columns(self, request: LoadRequest) -> None:
        have = [c for c in self._existing_columns(request.schema, request.table) if c not in (LOADED_AT, RUN_ID)]
        new = [c.name for c in request.files.columns]
        if have != new:
            raise TaskFailed(
                f"{request.schema}.{request.table} has columns ({', '.join(have)}) but the new data has "
                f"({', '.join(new)}); run with --full-refresh to rebuild the table"
            )

    def _merge(self, request: LoadRequest, target: str) -> int:
        keys = [self.quote(k) for k in request.primary_key]
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE _hr_batch AS {self._read_csv(request)}")
        # the last row per key in the batch wins, so a batch with repeats still merges
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE _hr_batch_dedup AS SELECT * EXCLUDE (_hr_rn) FROM ("
            f"SELECT *, row_number() OVER (PARTITION BY {', '.join(keys)} ORDER BY rowid DESC) AS _hr_rn "
            "FROM _hr_batch) WHERE _hr_rn = 1"
        )
        match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM b.{k}" for k in keys)
        self.con.execute(f"DELETE FROM {target} AS t USING _hr_batch_dedup AS b WHERE {match}")
        rows = self.con.execute(f"INSERT INTO {target} SELECT * FROM _hr_batch_dedup").fetchone()[0]
        self.con.execute("DROP TABLE _hr_batch; DROP TABLE _hr_batch_dedup")
        return int(rows)

    # -- state ---------------------------------------------------------------------------

    def get_state(self, key: str) -> Any:
        row = self.con.execute(f"SELECT value FROM {META}.state WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else None

    def _set_state(self, key: str, value: Any) -> None:
        self.con.execute(
            f"INSERT OR REPLACE INTO {META}.state VALUES (?, ?, now())", [key, json.dumps(value, default=str)]
        )

    def reset_state(self, key: str) -> None:
        self.con.execute(f"DELETE FROM {META}.state WHERE key = ?", [key])

    # -- transformations and datamarts ------------------------------------------------------

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(
            self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                [schema, table],
            ).fetchone()[0]
        )

    def create_working_schema(self, schema: str, inputs: dict[str, str]) -> None:
        self.con.execute(f"DROP SCHEMA IF EXISTS {self.quote(schema)} CASCADE")
        self.con.execute(f"CREATE SCHEMA {self.quote(schema)}")
        for name, source in inputs.items():
            src_schema, src_table = source.split(".")
            self.con.execute(
                f"CREATE VIEW {self.qualified(schema, name)} AS SELECT * FROM {self.qualified(src_schema, src_table)}"
            )

    def use_schema(self, schema: str) -> None:
        self.con.execute(f"SET schema = {self._lit(schema)}")

    def publish_tables(self, source_schema: str, target_schema: str, tables: Sequence[str]) -> dict[str, int]:
        self.con.execute("SET schema = 'main'")
        rows: dict[str, int] = {}
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quote(target_schema)}")
            existing = self._objects(target_schema)
            for table in tables:
                target = self.qualified(target_schema, table)
                if existing.get(table) == "VIEW":
                    self.con.execute(f"DROP VIEW {target}")
                self.con.execute(
                    f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {self.qualified(source_schema, table)}"
                )
                rows[table] = self.con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return rows

    def _objects(self, schema: str) -> dict[str, str]:
        rows = self.con.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ?", [schema]
        ).fetchall()
        return {name: ("VIEW" if kind == "VIEW" else "TABLE") for name, kind in rows}

    def publish_datamart(
        self, schema: str, entries: Sequence[tuple[str, str]], materialization: str, readers: Sequence[str] = ()
    ) -> None:  # DuckDB has no logins: readers open the file read-only
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}")
            for name, kind in self._objects(schema).items():  # the datamart holds exactly its entries
                self.con.execute(f"DROP {kind} {self.qualified(schema, name)}")
            for source, name in entries:
                src_schema, src_table = source.split(".")
                what = "VIEW" if materialization == "view" else "TABLE"
                source_table = self.qualified(src_schema, src_table)
                self.con.execute(f"CREATE {what} {self.qualified(schema, name)} AS SELECT * FROM {source_table}")
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def drop_schema(self, schema: str) -> None:
        self.con.execute("SET schema = 'main'")
        self.con.execute(f"DROP SCHEMA IF EXISTS {self.quote(schema)} CASCADE")

    def record_task(self, record: TaskRecord) -> None:
        self.con.execute(
            f"INSERT INTO {META}.task_runs VALUES (?, ?, ?, to_timestamp(?), to_timestamp(?), ?, ?, ?, ?)", record.row()
        )
