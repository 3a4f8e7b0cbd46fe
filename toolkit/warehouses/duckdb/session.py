"""A transformation's own database on DuckDB (``DuckDBWarehouse.transformation_session``).

DuckDB has no roles, so a transformation runs in a separate database file that holds only
copies of its declared inputs, on its own connection with external access disabled
(no files, no ``ATTACH``, no ``COPY TO``, no extension installs) and the configuration locked
(so it cannot be switched back on). The warehouse file is closed while the SQL runs, so other
tasks may write it. Afterwards the warehouse attaches the work file read-only and copies the
declared outputs, as plain tables, into ``out_<id>``; the work folder is removed.
"""

from __future__ import annotations

import glob
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headrace import lifecycle
from headrace.errors import TaskFailed
from headrace.warehouses.base import SessionLogin, StatementFailed, TransformationSession, capped

if TYPE_CHECKING:
    from headrace.warehouses.duckdb.warehouse import DuckDBWarehouse

WORK = "headrace_work"  # the work file's name when the warehouse attaches it
PUBLISH = "_headrace_publish"  # schema of plain copies of outputs that are views or have computed columns

# outputs that are plain tables: reading them runs nothing the transformation defined
_PLAIN = """
SELECT t.table_name FROM duckdb_tables() AS t
WHERE t.database_name = ? AND t.schema_name = ? AND t.table_name IN (SELECT unnest(?))
  AND NOT EXISTS (SELECT 1 FROM duckdb_columns() AS c WHERE c.table_oid = t.table_oid AND c.column_default IS NOT NULL)
"""


class DuckDBSession(TransformationSession):
    def __init__(self, warehouse: DuckDBWarehouse, work_file: Path):
        self.warehouse = warehouse
        self.work_file = work_file
        self.con: Any = None
        self._connect()
        lifecycle.on_stop(self._interrupt)  # a stop ends the running statement at once (DuckDB seldom checks signals)

    def _connect(self) -> None:
        import duckdb

        settings = self.warehouse.settings()
        time_zone = settings.pop("TimeZone")  # needs the icu extension: loaded before external access ends
        self.con = duckdb.connect(str(self.work_file), config=settings)
        self.con.execute("SET TimeZone = ?", (time_zone,))
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    @contextmanager
    def login(self, connections: int) -> Iterator[SessionLogin]:
        """The work file, for one other process: this session's connection is closed meanwhile (DuckDB
        lets one process write a file). The other process must open it with ``config_options``, which
        DuckDB applies when the file is opened, before any statement (dbt-duckdb passes them to
        ``duckdb.connect``): external access off, the configuration locked."""
        config = {**self.warehouse.settings(), "enable_external_access": False, "lock_configuration": True}
        config.pop("TimeZone")  # needs the icu extension, which a process with external access off cannot load
        self.close()
        try:
            yield SessionLogin({"path": str(self.work_file), "config_options": config}, {}, "main")
        finally:
            self._connect()

    def _interrupt(self, stopped_at: float) -> None:
        con = self.con
        if con is not None:
            con.interrupt()

    def execute(self, sql: str) -> None:
        self._run(sql)

    def query(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._run(capped(sql, limit))
        return [d[0] for d in cursor.description or []], cursor.fetchall()

    def _run(self, sql: str) -> Any:
        import duckdb

        try:
            return self.con.execute(sql)
        except duckdb.Error as exc:
            if lifecycle.reason() is not None:  # interrupted by a stop: the task ends as stopped, not failed
                raise lifecycle.Terminated(lifecycle.reason() or "stopped") from None
            text = str(exc).strip()
            message = text.splitlines()[0] if text else type(exc).__name__
            raise StatementFailed(message, _kind(exc)) from exc

    def table_exists(self, name: str) -> bool:
        sql = (  # in the work file itself: a temporary table is not an output (as on PostgreSQL)
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ?"
        )
        return int(self.con.execute(sql, (name,)).fetchone()[0]) > 0

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def publish(self, target_schema: str, tables: Sequence[str]) -> dict[str, int]:
        wh = self.warehouse
        schemas = self._plain_tables(tables)
        self.close()
        wh.resume()
        wh.run(f"ATTACH {wh.lit(str(self.work_file))} AS {WORK} (READ_ONLY)")
        try:
            for schema in set(schemas.values()):
                named = [t for t, s in schemas.items() if s == schema]
                plain = {r[0] for r in wh.run(_PLAIN, (WORK, schema, named)).fetchall()}
                if set(named) - plain:
                    raise TaskFailed(f"output(s) {', '.join(sorted(set(named) - plain))} are not plain tables")
            return wh.publish_relations(target_schema, {t: f"{WORK}.{wh.qualified(s, t)}" for t, s in schemas.items()})
        finally:
            wh.run(f"DETACH {WORK}")

    def _plain_tables(self, tables: Sequence[str]) -> dict[str, str]:
        """Output -> schema of the work file it is published from: ``main`` when it is a plain table,
        else a plain copy made here, on the confined connection."""
        database = self.con.execute("SELECT current_database()").fetchone()[0]
        plain = {r[0] for r in self.con.execute(_PLAIN, (database, "main", list(tables))).fetchall()}
        copies = [t for t in tables if t not in plain]
        if copies:
            self.execute(f"DROP SCHEMA IF EXISTS {PUBLISH} CASCADE")
            self.execute(f"CREATE SCHEMA {PUBLISH}")
            for table in copies:
                quoted = self.warehouse.quote(table)
                self.execute(f"CREATE TABLE {PUBLISH}.{quoted} AS SELECT * FROM main.{quoted}")
        return {t: ("main" if t in plain else PUBLISH) for t in tables}


def _kind(exc: BaseException) -> Any:
    import duckdb

    if isinstance(exc, duckdb.PermissionException) or "configuration has been locked" in str(exc):
        return "denied"
    if isinstance(exc, duckdb.CatalogException) and "Table with name" in str(exc):
        return "missing"
    return None


def remove_work(wh: DuckDBWarehouse, schema: str) -> None:
    """Remove the work folders of run ``schema`` (a sweeper's hook for runs that were killed)."""
    for folder in wh.work_dir.glob(f"{glob.escape(schema)}-*"):
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def transformation_session(wh: DuckDBWarehouse, schema: str, inputs: dict[str, str]) -> Iterator[DuckDBSession]:
    wh.work_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{schema}-", dir=wh.work_dir))
    work_file = folder / "work.duckdb"
    session: DuckDBSession | None = None
    try:
        wh.run(f"ATTACH {wh.lit(str(work_file))} AS {WORK}")
        try:
            for name, source in inputs.items():
                src_schema, src_table = source.split(".")
                wh.run(
                    f"CREATE TABLE {WORK}.main.{wh.quote(name)} AS SELECT * FROM {wh.qualified(src_schema, src_table)}"
                )
        finally:
            wh.run(f"DETACH {WORK}")
        wh.suspend()  # other tasks may write the warehouse while this one runs
        session = DuckDBSession(wh, work_file)
        yield session
    finally:
        if session is not None:
            session.close()
        wh.resume()
        shutil.rmtree(folder, ignore_errors=True)
