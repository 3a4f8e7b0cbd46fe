"""The warehouse interface every warehouse module implements.

Headrace's runtime talks to warehouses only through these methods; differences between
warehouses are either inside a module or described by its ``Capabilities``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from headrace.errors import TaskFailed
from headrace.sqltext import ident, qualified
from headrace.storage.base import Storage
from headrace.tablefiles import TableSchema
from headrace.warehouses.capabilities import Capabilities

META = "headrace_meta"
LOADED_AT = "_headrace_loaded_at"
RUN_ID = "_headrace_run_id"


@dataclass(frozen=True)
class StoredPart:
    key: str  # storage key, e.g. raw/crm/orders/RUN/part-00000.csv.gz
    uri: str  # native URI: file:///..., gs://..., s3://...


@dataclass
class LoadRequest:
    """One table to load: where its parts are in storage and what ``schema.json`` says of them."""

    schema: str
    table: str
    parts: list[StoredPart]
    files: TableSchema  # columns, codec, rows and bytes, read from the stored schema.json
    mode: str  # full | append | incremental | upsert
    primary_key: Sequence[str]
    run_id: str
    state_key: str | None = None  # incremental cursor key in headrace_meta.state
    state_value: Any = None  # committed with the load

    @property
    def merges(self) -> bool:
        """Merge on the primary key instead of appending: upsert, and incremental with a key
        (an incremental run may re-read rows, e.g. through a lookback)."""
        return self.mode == "upsert" or (self.mode == "incremental" and bool(self.primary_key))


@dataclass
class TaskRecord:
    run_id: str
    task_id: str
    status: str
    started_at: float
    ended_at: float
    rows: int | None
    bytes: int | None
    error: str | None

    def row(self) -> tuple[Any, ...]:
        """Values of a ``headrace_meta.task_runs`` row, in column order."""
        duration = round(self.ended_at - self.started_at, 3)
        return (
            self.run_id,
            self.task_id,
            self.status,
            self.started_at,
            self.ended_at,
            duration,
            self.rows,
            self.bytes,
            self.error,
        )


class StatementFailed(Exception):
    """A statement of transformation SQL failed in the warehouse.

    ``message`` is the warehouse's own (first line); ``kind`` says what the warehouse refused:
    ``denied`` (no privilege, external access disabled, configuration locked) or ``missing`` (a
    relation that does not exist in the transformation's session), None for anything else.
    """

    def __init__(self, message: str, kind: Literal["denied", "missing"] | None = None):
        super().__init__(message)
        self.message = message
        self.kind = kind


def capped(sql: str, limit: int) -> str:
    """``sql`` (one query, any dialect) returning at most ``limit`` rows. Its own lines: a trailing
    ``--`` comment in it cannot swallow the cap."""
    return f"SELECT * FROM (\n{sql.strip().rstrip(';')}\n) AS hr_capped LIMIT {int(limit)}"


@dataclass(frozen=True)
class SessionLogin:
    """How another process (dbt) logs in to a transformation session with the same confinement.

    ``settings`` are the connection's plain settings and ``secrets`` the ones never written to
    disk (the throwaway login's password), both keyed as the warehouse's dbt adapter names them
    in a profile; ``schema`` is where the inputs are and where the process must build."""

    settings: dict[str, Any]
    secrets: dict[str, str]
    schema: str


class TransformationSession(ABC):
    """Where a transformation's SQL runs: its own connection, confined by the warehouse to the
    declared inputs (readable) and its working schema (writable)."""

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run one statement; a failure raises ``StatementFailed`` with the warehouse's message."""

    @abstractmethod
    def query(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and at most ``limit`` rows of a query, run like ``execute`` (a failure raises
        ``StatementFailed``). The query is capped in the warehouse (``capped``): no more rows than
        ``limit`` ever leave it, however large the result (an assertion's, say)."""

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """A table or view ``name`` exists in the working schema."""

    @abstractmethod
    def publish(self, target_schema: str, tables: Sequence[str]) -> dict[str, int]:
        """End the transformation's connection, then copy ``tables`` into ``target_schema`` with the
        warehouse's own rights, replacing what was there, all or nothing; rows per table."""

    def publish_outputs(self, target_schema: str, outputs: Sequence[str], where: str, not_made: str) -> dict[str, int]:
        """Check every declared output exists, then ``publish`` them; errors start with ``where`` and
        name the outputs missing, with ``not_made`` (e.g. "were not created by the SQL; create them ...")."""
        missing = [o for o in outputs if not self.table_exists(o)]
        if missing:
            raise TaskFailed(f"{where}: declared output(s) {', '.join(missing)} {not_made} or remove them from outputs")
        try:
            return self.publish(target_schema, outputs)
        except (TaskFailed, StatementFailed) as exc:
            raise TaskFailed(f"{where}: {exc}") from exc

    def login(self, connections: int) -> AbstractContextManager[SessionLogin]:
        """Let another process log in to this session, confined as the session is, with up to
        ``connections`` connections, while the context lasts (DuckDB: the session's own connection is
        closed meanwhile). Read by the dbt transformation."""
        raise TaskFailed("another process cannot log in to a transformation session of this warehouse yet")


@dataclass
class SandboxLogin:
    """How an analyst opens a sandbox (docs/sandboxes.md): connection settings valid only for it
    (host, port, database, user, schema; or a DuckDB file's path), and where its password is."""

    fields: dict[str, Any]
    client: str  # a SQL client command that opens it, without the password
    password: str | None = None  # filled only when asked for (``headrace sandbox credentials``)
    password_key: str | None = None  # the secret store's name of the password; None: no password


class SandboxSession(ABC):
    """A sandbox's own connection, as its login (PostgreSQL) or confined like a transformation (DuckDB)."""

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run one statement; a failure raises ``StatementFailed`` with the warehouse's message."""

    @abstractmethod
    def query(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and at most ``limit`` rows of one query (capped in the warehouse): assertions."""

    @abstractmethod
    def reset(self) -> None:
        """Remove what earlier runs and the analyst made in the sandbox; the inputs stay."""

    @abstractmethod
    def made(self) -> dict[str, int]:
        """Tables and views in the sandbox besides the inputs, with their rows (counted as the login)."""


class Warehouse(ABC):
    capabilities: Capabilities

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    def interrupt(self, started_before: float) -> None:
        """Stop the running statement if it started before ``started_before`` (``time.monotonic()``),
        from another thread: the task is being stopped, and its cleanup's statements must run.

        Default: nothing; a driver that cancels on ``KeyboardInterrupt`` (psycopg) needs nothing."""
        return None

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run one statement; raise the driver's error."""

    @abstractmethod
    def query(self, sql: str, limit: int | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of a query (for `headrace query` and tests)."""

    def quote(self, name: str) -> str:
        """``name`` as an identifier of this warehouse's dialect."""
        return ident(name, self.capabilities.dialect)

    def qualified(self, schema: str, table: str) -> str:
        return qualified(schema, table, self.capabilities.dialect)

    @abstractmethod
    def load(self, request: LoadRequest, storage: Storage) -> int:
        """Load the stored parts; return rows loaded. Atomic: all of it or nothing.

        Reads natively from ``part.uri`` when ``storage.capabilities.scheme`` is one of
        ``capabilities.native_load_schemes``; otherwise streams ``storage.open(part.key)``.
        """

    def export_table(self, schema: str, table: str, folder: Path) -> TableSchema:
        """Write ``schema.table`` into ``folder`` as table files (CSV parts of the contract and
        ``schema.json`` with portable types), streamed, never the whole table in memory; its schema.
        Headrace's own columns (``_headrace_...``) are left out; a missing table is a ``LookupError``.

        Only where ``capabilities.exports_tables`` says so (container transformations read these)."""
        raise TaskFailed(
            f"the {self.capabilities.name} warehouse cannot export tables as files yet, so container "
            "transformations cannot read their inputs from it: use a SQL transformation instead"
        )

    @abstractmethod
    def get_state(self, key: str) -> Any: ...

    @abstractmethod
    def reset_state(self, key: str) -> None: ...

    @abstractmethod
    def transformation_session(
        self, work_schema: str, inputs: dict[str, str], timeout_s: float | None = None
    ) -> AbstractContextManager[TransformationSession]:
        """A confined session for one transformation run: ``inputs`` (local name -> schema.table)
        readable under their local names, nothing else of the warehouse readable, writes only to
        its own working area. Everything it made is removed on exit, also on failure."""

    @abstractmethod
    def table_exists(self, schema: str, table: str) -> bool: ...

    @abstractmethod
    def publish_datamart(
        self, schema: str, entries: Sequence[tuple[str, str]], materialization: str, readers: Sequence[str] = ()
    ) -> None:
        """Make ``schema`` hold exactly ``entries`` (source schema.table, name) as views or tables,
        readable by the ``readers`` logins where the warehouse has logins (``capabilities.roles``)."""

    def reader_credentials(self, readers: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Connection settings and password of each datamart reader login."""
        raise TaskFailed(
            f"the {self.capabilities.name} warehouse has no logins: datamart readers open it directly "
            "(use a warehouse with roles, such as postgres, for per-datamart credentials)"
        )

    @abstractmethod
    def drop_schema(self, schema: str) -> None:
        """Drop ``schema`` and everything in it (and, with ``capabilities.roles``, its working role)."""

    @abstractmethod
    def record_task(self, record: TaskRecord) -> None:
        """Append to headrace_meta.task_runs."""

    def loads_of_run(self, run_id: str) -> dict[str, int]:
        """Tables whose load of ``run_id`` committed (``schema.table`` -> rows): headrace_meta.table_loads."""
        return {}

    def table_load_runs(self, table_name: str) -> list[str]:
        """Run ids whose load of ``schema.table`` committed, newest first."""
        return []

    def task_run_ids(self, task_id: str) -> set[str]:
        """Run ids with a headrace_meta.task_runs row of ``task_id`` (runs that ended)."""
        return set()

    def task_recorded(self, run_id: str, task_id: str, since: float) -> bool:
        """Whether headrace_meta.task_runs has a row of this task and run that started at ``since`` or later."""
        return False

    @abstractmethod
    def register_working_schema(self, schema: str, run_id: str, task_id: str, owner: str, expires_at: float) -> None:
        """Note a working schema in use by ``owner`` (``host:pid:start``) until ``expires_at`` (epoch
        seconds), so sweeps leave it alone while its task may live."""

    @abstractmethod
    def unregister_working_schema(self, schema: str) -> None:
        """The working schema is gone: forget it."""

    def leftovers(self, now: float, owner_dead: Callable[[str], bool]) -> list[tuple[str, str]]:
        """What dead tasks left in the warehouse: (kind, name) pairs for ``remove_leftover``.

        ``owner_dead(owner)`` says whether a registration's owner process is known to be gone."""
        return []

    # -- sandboxes (docs/sandboxes.md): where ``capabilities.sandboxes`` says so ----------------

    def no_sandboxes(self) -> TaskFailed:
        return TaskFailed(
            f"sandboxes are not available on the {self.capabilities.name} warehouse yet: develop against a "
            "postgres or duckdb warehouse (a copy of the project with `warehouse: {type: duckdb}` works on a laptop)"
        )

    def create_sandbox(self, name: str, inputs: dict[str, str]) -> SandboxLogin:
        """Make sandbox ``name`` holding ``inputs`` (local name -> schema.table) and its own login."""
        raise self.no_sandboxes()

    def sandbox_login(self, name: str, with_password: bool = False) -> SandboxLogin:
        """How to open sandbox ``name`` (its password from the secret store only when asked for)."""
        raise self.no_sandboxes()

    def sandbox_session(
        self, name: str, inputs: dict[str, str], timeout_s: float | None = None
    ) -> AbstractContextManager[SandboxSession]:
        """A session in sandbox ``name`` with the rights of its own login, never more."""
        raise self.no_sandboxes()

    def drop_sandbox(self, name: str) -> None:
        """Remove sandbox ``name``: its schema or file, its login and its stored password (what exists)."""
        raise self.no_sandboxes()

    def sandboxes_in_use(self, names: Sequence[str]) -> set[str]:
        """Which of ``names`` have a session open now (their logins' sessions; none without logins)."""
        return set()

    @abstractmethod
    def remove_leftover(self, kind: str, name: str) -> None:
        """Drop one of ``leftovers()`` (a working schema with its role, a staging table)."""
