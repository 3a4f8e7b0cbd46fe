"""DuckDB: the embedded warehouse for laptops and single machines (the hooks of ``SqlWarehouse``).

DuckDB lets one process write a database file at a time, so Headrace opens it only
for the warehouse part of a task and waits for the lock when a parallel task holds it.
Every load runs in one transaction: a killed process leaves the previous table intact.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

from headrace.errors import TaskFailed, TransientError
from headrace.storage.base import Storage
from headrace.tablefiles import TableSchema
from headrace.warehouses.base import LoadRequest, SandboxLogin, SandboxSession, StoredPart, TransformationSession
from headrace.warehouses.common.sqlwarehouse import Cursor, SqlWarehouse
from headrace.warehouses.duckdb import CAPABILITIES, DuckDBConfig, csvread, export, sandbox, session

LOCK_WAIT_S = 600.0


def open(config: DuckDBConfig, state_dir: Path) -> DuckDBWarehouse:
    path = Path(config.path)
    path = path if path.is_absolute() else state_dir / path
    return DuckDBWarehouse(path, config.memory_limit, config.threads, work_dir=state_dir / "work")


def connect_with_lock_wait(path: Path, read_only: bool = False, wait_s: float = LOCK_WAIT_S) -> Any:
    """A connection to the file, waiting while another process holds its write lock."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise TaskFailed(f"cannot open DuckDB file {path}: {exc}") from exc
            if time.monotonic() > deadline:
                raise TransientError(
                    f"DuckDB file {path} stayed locked by another process for {wait_s:.0f} s: {exc} "
                    "(another task is writing to it; run this one again when it is done)"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


class DuckDBWarehouse(SqlWarehouse):
    capabilities = CAPABILITIES
    param = "?"
    temp_schema = "temp"
    seq_column = None  # a temporary table's rowid is its insertion order
    seq = "rowid"

    def __init__(
        self,
        path: Path,
        memory_limit: str = "2GB",
        threads: int | None = None,
        read_only: bool = False,
        work_dir: Path | None = None,
    ):
        self.path = path
        self.memory_limit = memory_limit
        self.threads = threads
        self.read_only = read_only
        self.work_dir = work_dir or path.parent / "work"  # transformations' own database files
        self.con: Any = None
        self._running_since: float | None = None  # time.monotonic() the running statement started
        self._running = threading.Lock()
        self.resume()
        if not read_only:
            self.ensure_meta()

    def settings(self) -> dict[str, Any]:
        """Settings every connection of this warehouse gets (also a transformation's own)."""
        settings: dict[str, Any] = {"memory_limit": self.memory_limit, "TimeZone": "UTC"}
        if self.threads:
            settings["threads"] = int(self.threads)
        return settings

    def suspend(self) -> None:
        """Close the file, so other processes may write it, until ``resume``."""
        if self.con is not None:
            self.con.close()
            self.con = None

    def resume(self) -> None:
        if self.con is None:
            con = connect_with_lock_wait(self.path, read_only=self.read_only)
            for key, value in self.settings().items():
                con.execute(f"SET {key} = {self.lit(str(value)) if isinstance(value, str) else int(value)}")
            self.con = con

    def close(self) -> None:
        self.suspend()

    def interrupt(self, started_before: float) -> None:
        """A long query checks Python's signals too rarely to stop in time: interrupt it; a
        statement started after the stop (the cleanup's) is left alone."""
        with self._running:
            con = self.con
            if con is not None and self._running_since is not None and self._running_since < started_before:
                con.interrupt()

    @contextmanager
    def _statement(self) -> Iterator[None]:
        """Track the running statement for ``interrupt``; a stop whose ``Terminated`` DuckDB
        swallowed while it checked Python's signals is raised again when the statement ends."""
        from headrace import lifecycle

        stopped_before = lifecycle.raised()
        with self._running:
            self._running_since = time.monotonic()
        try:
            yield
        finally:
            with self._running:
                self._running_since = None
        if lifecycle.raised() and not stopped_before:
            raise lifecycle.Terminated(lifecycle.reason() or "stopped")

    # -- hooks of SqlWarehouse -----------------------------------------------------------------

    def run(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        with self._statement():
            return self.con.execute(sql, params)

    def changed(self, sql: str, params: Sequence[Any] | None = None) -> int:
        with self._statement():
            row = self.con.execute(sql, params).fetchone()  # DuckDB answers a change with its row count
        return int(row[0]) if row else 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT; on any exception, ROLLBACK. A stop (``Terminated``) can arrive around
        the COMMIT itself: whether it committed or not, no transaction is left open for cleanup."""
        self.run("BEGIN TRANSACTION")
        try:
            yield
            self.run("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        with suppress(Exception):  # nothing open (it committed, or DuckDB already rolled it back)
            self.con.rollback()
        with suppress(Exception):  # a failed full load left it false (csvread.insertion_order)
            self.con.execute("SET preserve_insertion_order = true")

    def insert_part(self, table: str, request: LoadRequest, part: StoredPart, storage: Storage) -> int:
        return csvread.insert_parts(self, table, dataclasses.replace(request, parts=[part]), storage, ordered=True)

    def insert_parts(self, table: str, request: LoadRequest, storage: Storage, ordered: bool) -> int:
        return csvread.insert_parts(self, table, request, storage, ordered)

    def swap(self, schema: str, stage: str, table: str) -> None:
        # DuckDB binds views by name when they are queried: dropping the table breaks none
        kind = self.relations(schema).get(table)
        if kind:
            self.run(f"DROP {kind} {self.qualified(schema, table)}")
        self.run(f"ALTER TABLE {self.qualified(schema, stage)} RENAME TO {self.quote(table)}")

    def export_table(self, schema: str, table: str, folder: Path) -> TableSchema:
        return export.export_table(self, schema, table, folder)

    # -- transformations -------------------------------------------------------------------------

    def drop_schema(self, schema: str) -> None:
        """Also the work folders of a transformation run ``schema`` (left behind by a killed run)."""
        super().drop_schema(schema)
        session.remove_work(self, schema)

    def transformation_session(
        self, work_schema: str, inputs: dict[str, str], timeout_s: float | None = None
    ) -> AbstractContextManager[TransformationSession]:
        return session.transformation_session(self, work_schema, inputs)

    # -- sandboxes (docs/sandboxes.md): a database file of copies each -----------------------------

    def create_sandbox(self, name: str, inputs: dict[str, str]) -> SandboxLogin:
        return sandbox.create(self, name, inputs)

    def sandbox_login(self, name: str, with_password: bool = False) -> SandboxLogin:
        return sandbox.login(self, name)  # a file: no password

    def sandbox_session(
        self, name: str, inputs: dict[str, str], timeout_s: float | None = None
    ) -> AbstractContextManager[SandboxSession]:
        return sandbox.session(self, name, inputs)

    def drop_sandbox(self, name: str) -> None:
        sandbox.drop(self, name)
