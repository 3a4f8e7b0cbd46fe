"""One implementation of the warehouse interface for SQL warehouses with transactional DDL
(DuckDB, PostgreSQL): ``headrace_meta``, incremental state, run history, working schemas,
publishing, and loads (in ``loads.py``).

A warehouse module subclasses ``SqlWarehouse`` and supplies its capabilities and a few
hooks: how a statement runs (``run``, ``changed``, ``param``), what a transaction is
(``transaction``), how a stored part gets into a table (``insert_part``), how a fully
built staging table replaces a table (``swap``), where a transformation runs
(``transformation_session``, confined by the warehouse itself) and, where its capabilities
say so, a per-table lock (``lock``) and roles (``drop_working_role``, ``grant_readers``).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol

from headrace.sqltext import literal, short_name
from headrace.storage.base import Storage
from headrace.typemaps import sql_type
from headrace.warehouses.base import META, LoadRequest, StoredPart, TaskRecord, Warehouse
from headrace.warehouses.common import leftovers, loads, meta


class Cursor(Protocol):
    """What ``run`` returns: a DB-API cursor (DuckDB's and psycopg's both are)."""

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ...) -> list[Any]: ...


class SqlWarehouse(Warehouse):
    param: ClassVar[str]  # the driver's placeholder: "?" or "%s"
    temp_schema: ClassVar[str]  # schema of temporary tables: "temp" (DuckDB), "pg_temp"
    # the load batch's arrival order: DDL of an extra column (None: none needed) and its expression
    seq_column: ClassVar[str | None]
    seq: ClassVar[str]

    # -- hooks ------------------------------------------------------------------------------

    @abstractmethod
    def run(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        """Run one statement (``params`` fill ``param`` placeholders); its cursor."""

    @abstractmethod
    def changed(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run a data-changing statement; rows it inserted, updated or deleted."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """Everything inside commits together or rolls back, also when the process dies."""

    @abstractmethod
    def insert_part(self, table: str, request: LoadRequest, part: StoredPart, storage: Storage) -> int:
        """Add the rows of one stored part to the data columns of ``table`` (other columns take
        their defaults); rows added. A value that cannot be loaded raises ``parts.bad_value``."""

    def insert_parts(self, table: str, request: LoadRequest, storage: Storage, ordered: bool) -> int:
        """Add the rows of all the request's parts to ``table``; rows added. ``ordered``: the rows
        must arrive in part and line order (a batch's sequence); else in any order (a full load)."""
        return sum(self.insert_part(table, request, part, storage) for part in request.parts)

    @abstractmethod
    def swap(self, schema: str, stage: str, table: str) -> None:
        """Make the loaded ``schema.stage`` become ``schema.table`` (inside the caller's transaction)."""

    def lock(self, key: str) -> None:
        """Hold a lock on ``key`` until the transaction ends (needed unless ``single_writer``)."""
        raise NotImplementedError(f"{type(self).__name__} allows many writers but has no lock")

    def index_keys(self, table: str, keys: Sequence[str]) -> None:
        """Make merges on ``keys`` fast, where the warehouse has indexes (default: nothing to do)."""

    def drop_working_role(self, schema: str) -> None:
        """Drop the working role of ``schema`` if it exists, ending its sessions (``roles`` capability).
        Needs only the schema name: a sweeper calls it for a run that died."""
        raise NotImplementedError

    def grant_readers(self, schema: str, readers: Sequence[str]) -> None:
        """Logins ``readers`` read ``schema`` only; former readers lose access (``roles`` capability)."""
        raise NotImplementedError

    # -- SQL text ---------------------------------------------------------------------------

    def lit(self, value: str) -> str:
        return literal(value, self.capabilities.dialect)

    def sql_type(self, portable: str) -> str:
        return sql_type(portable, self.capabilities.dialect)

    def short_name(self, prefix: str, name: str) -> str:
        return short_name(prefix, name, self.capabilities.max_identifier_length)

    # -- plain SQL ---------------------------------------------------------------------------

    def execute(self, sql: str) -> None:
        self.run(sql)

    def query(self, sql: str, limit: int | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self.run(sql)
        columns = [d[0] for d in cursor.description or []]
        if not columns:
            return [], []
        rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
        return columns, [tuple(r) for r in rows]

    def count(self, sql: str, params: Sequence[Any] | None = None) -> int:
        return int(self.run(sql, params).fetchone()[0])

    def table_exists(self, schema: str, table: str) -> bool:
        p = self.param
        sql = f"SELECT count(*) FROM information_schema.tables WHERE table_schema = {p} AND table_name = {p}"
        return self.count(sql, (schema, table)) > 0

    def relations(self, schema: str) -> dict[str, str]:
        """Tables and views of ``schema``: name -> what ``DROP`` needs (TABLE, VIEW, ...)."""
        p = self.param
        rows = self.run(
            f"SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = {p}", (schema,)
        ).fetchall()
        return {name: ("VIEW" if kind == "VIEW" else "TABLE") for name, kind in rows}

    def column_types(self, schema: str, table: str) -> list[tuple[str, str]]:
        p = self.param
        sql = (
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = {p} AND table_name = {p} ORDER BY ordinal_position"
        )
        return [(name, kind) for name, kind in self.run(sql, (schema, table)).fetchall()]

    # -- headrace_meta ----------------------------------------------------------------------------

    def ensure_meta(self) -> None:
        """Create what is missing of ``headrace_meta`` (once per warehouse; parallel tasks wait)."""
        roles, sandboxes = self.capabilities.roles, self.capabilities.sandboxes
        sql, params = meta.missing_sql(roles, self.param, sandboxes)
        if self.count(sql, params) == len(params) - 1:
            return
        with self.transaction():
            if not self.capabilities.single_writer:
                self.lock(META)
            for statement in meta.ddl(self.capabilities.dialect, roles, sandboxes):
                self.run(statement)

    def get_state(self, key: str) -> Any:
        text = self.sql_type("string")
        row = self.run(f"SELECT CAST(value AS {text}) FROM {META}.state WHERE key = {self.param}", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_state(self, key: str, value: Any) -> None:
        p = self.param
        self.run(
            f"INSERT INTO {META}.state VALUES ({p}, CAST({p} AS {self.sql_type('json')}), now()) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
            (key, json.dumps(value, default=str)),
        )

    def reset_state(self, key: str) -> None:
        self.run(f"DELETE FROM {META}.state WHERE key = {self.param}", (key,))

    def record_task(self, record: TaskRecord) -> None:
        p = self.param
        self.run(
            f"INSERT INTO {META}.task_runs VALUES ({p}, {p}, {p}, to_timestamp({p}), to_timestamp({p}), "
            f"{p}, {p}, {p}, {p})",
            record.row(),
        )

    def loads_of_run(self, run_id: str) -> dict[str, int]:
        rows = self.run(f"SELECT table_name, rows FROM {META}.table_loads WHERE run_id = {self.param}", (run_id,))
        return {name: int(count or 0) for name, count in rows.fetchall()}

    def table_load_runs(self, table_name: str) -> list[str]:
        sql = f"SELECT run_id, max(loaded_at) AS last_load FROM {META}.table_loads WHERE table_name = {self.param} "
        rows = self.run(sql + "GROUP BY run_id ORDER BY last_load DESC", (table_name,)).fetchall()
        return [run_id for run_id, _ in rows]

    def task_run_ids(self, task_id: str) -> set[str]:
        rows = self.run(f"SELECT DISTINCT run_id FROM {META}.task_runs WHERE task_id = {self.param}", (task_id,))
        return {run_id for (run_id,) in rows.fetchall()}

    def task_recorded(self, run_id: str, task_id: str, since: float) -> bool:
        p = self.param
        sql = f"SELECT count(*) FROM {META}.task_runs WHERE run_id = {p} AND task_id = {p} "
        sql += f"AND started_at >= to_timestamp({p})"
        return self.count(sql, (run_id, task_id, since)) > 0

    # -- what killed tasks leave behind ----------------------------------------------------------

    def register_working_schema(self, schema: str, run_id: str, task_id: str, owner: str, expires_at: float) -> None:
        leftovers.register(self, schema, run_id, task_id, owner, expires_at)

    def unregister_working_schema(self, schema: str) -> None:
        self.run(f"DELETE FROM {META}.working_schemas WHERE schema_name = {self.param}", (schema,))

    def leftovers(self, now: float, owner_dead: Callable[[str], bool]) -> list[tuple[str, str]]:
        return leftovers.find(self, now, owner_dead)

    def remove_leftover(self, kind: str, name: str) -> None:
        leftovers.remove(self, kind, name)

    # -- loads --------------------------------------------------------------------------------

    def load(self, request: LoadRequest, storage: Storage) -> int:
        return loads.load(self, request, storage)

    # -- transformations and datamarts ------------------------------------------------------------

    def drop_schema(self, schema: str) -> None:
        with self.transaction():
            self.run(f"DROP SCHEMA IF EXISTS {self.quote(schema)} CASCADE")
        if self.capabilities.roles:
            self.drop_working_role(schema)

    def publish_tables(self, source_schema: str, target_schema: str, tables: Sequence[str]) -> dict[str, int]:
        return self.publish_relations(target_schema, {t: self.qualified(source_schema, t) for t in tables})

    def publish_relations(self, target_schema: str, sources: dict[str, str]) -> dict[str, int]:
        """Copy each relation (table name -> SQL relation it is read from) into ``target_schema``,
        replacing what was there, all or nothing; rows per table."""
        rows: dict[str, int] = {}
        with self.transaction():
            self.run(f"CREATE SCHEMA IF NOT EXISTS {self.quote(target_schema)}")
            for table, relation in sources.items():
                stage = self.short_name("_hr_stage_", table)
                self.run(f"DROP TABLE IF EXISTS {self.qualified(target_schema, stage)}")
                rows[table] = self.changed(
                    f"CREATE TABLE {self.qualified(target_schema, stage)} AS SELECT * FROM {relation}"
                )
                self.swap(target_schema, stage, table)
        return rows

    def publish_datamart(
        self, schema: str, entries: Sequence[tuple[str, str]], materialization: str, readers: Sequence[str] = ()
    ) -> None:
        """Without ``roles`` the readers open the warehouse directly (DuckDB: the file, read-only)."""
        what = "VIEW" if materialization == "view" else "TABLE"
        with self.transaction():
            self.run(f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}")
            for name, kind in self.relations(schema).items():  # the datamart holds exactly its entries
                self.run(f"DROP {kind} {self.qualified(schema, name)}")
            for source, name in entries:
                self.run(f"CREATE {what} {self.qualified(schema, name)} AS SELECT * FROM {self._source(source)}")
            if self.capabilities.roles:
                self.grant_readers(schema, readers)

    def _source(self, source: str) -> str:
        src_schema, src_table = source.split(".")
        return self.qualified(src_schema, src_table)
