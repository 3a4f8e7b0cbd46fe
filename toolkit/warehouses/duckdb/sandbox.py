"""Analysts' sandboxes on DuckDB (docs/sandboxes.md).

DuckDB has no logins, so a sandbox is a database file of its own,
``<state dir>/sandboxes/<name>.duckdb``, holding copies of the transformation's inputs
(refreshed by every ``headrace sandbox run``). Nothing of the warehouse is in it, so whoever opens
it (``duckdb <path>``) sees only those copies; what else they can open is up to the file system's
permissions on their machine, not to Headrace. ``headrace sandbox run`` runs the SQL there as a
transformation runs: on its own connection with external access off and the configuration locked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from headrace.errors import TaskFailed
from headrace.warehouses.base import SandboxLogin, SandboxSession
from headrace.warehouses.duckdb.session import DuckDBSession

if TYPE_CHECKING:
    from headrace.warehouses.duckdb.warehouse import DuckDBWarehouse

ATTACHED = "headrace_sandbox"  # the sandbox file's name while the warehouse copies inputs into it

_RELATIONS = (
    "SELECT table_name, table_type FROM information_schema.tables "
    "WHERE table_catalog = current_database() AND table_schema = 'main' ORDER BY 1"
)


def path(wh: DuckDBWarehouse, name: str) -> Path:
    return wh.work_dir.parent / "sandboxes" / f"{name}.duckdb"


def login(wh: DuckDBWarehouse, name: str) -> SandboxLogin:
    file = path(wh, name)
    return SandboxLogin({"path": str(file)}, f"duckdb {file}")


def copy_inputs(wh: DuckDBWarehouse, name: str, inputs: dict[str, str]) -> None:
    """The inputs, copied as they are now into the sandbox file (replacing earlier copies)."""
    file = path(wh, name)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.parent.chmod(0o700)
    try:
        wh.run(f"ATTACH {wh.lit(str(file))} AS {ATTACHED}")
    except Exception as exc:
        raise TaskFailed(
            f"cannot open the sandbox file {file}: {exc} (close the SQL client that has it open)"
        ) from None
    try:
        for local, source in inputs.items():
            src_schema, src_table = source.split(".")
            wh.run(
                f"CREATE OR REPLACE TABLE {ATTACHED}.main.{wh.quote(local)} AS "
                f"SELECT * FROM {wh.qualified(src_schema, src_table)}"
            )
    finally:
        wh.run(f"DETACH {ATTACHED}")


def create(wh: DuckDBWarehouse, name: str, inputs: dict[str, str]) -> SandboxLogin:
    drop(wh, name)  # a file of that name is a leftover: the registry had no sandbox of this name
    try:
        copy_inputs(wh, name, inputs)
    except BaseException:
        drop(wh, name)
        raise
    return login(wh, name)


def drop(wh: DuckDBWarehouse, name: str) -> None:
    for leftover in (path(wh, name), path(wh, name).with_suffix(".duckdb.wal")):
        leftover.unlink(missing_ok=True)


class DuckDBSandboxSession(DuckDBSession, SandboxSession):
    """The sandbox file on a connection confined like a transformation's."""

    def __init__(self, wh: DuckDBWarehouse, file: Path, inputs: dict[str, str]):
        super().__init__(wh, file)
        self.inputs = set(inputs)

    def _made(self) -> list[tuple[str, str]]:
        return [(n, k) for n, k in self.con.execute(_RELATIONS).fetchall() if n not in self.inputs]

    def reset(self) -> None:
        for name, kind in self._made():
            self.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} IF EXISTS main.{self.warehouse.quote(name)}")

    def made(self) -> dict[str, int]:
        quote = self.warehouse.quote
        return {
            n: int(self.con.execute(f"SELECT count(*) FROM main.{quote(n)}").fetchone()[0]) for n, _ in self._made()
        }


@contextmanager
def session(wh: DuckDBWarehouse, name: str, inputs: dict[str, str]) -> Iterator[DuckDBSandboxSession]:
    if not path(wh, name).is_file():
        raise TaskFailed(f"the sandbox file {path(wh, name)} is gone: drop the sandbox and create it again")
    copy_inputs(wh, name, inputs)
    wh.suspend()  # other tasks may write the warehouse while the sandbox runs
    sandbox: DuckDBSandboxSession | None = None
    try:
        sandbox = DuckDBSandboxSession(wh, path(wh, name), inputs)
        yield sandbox
    finally:
        if sandbox is not None:
            sandbox.close()
        wh.resume()
