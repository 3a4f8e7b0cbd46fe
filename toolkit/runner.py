"""Run one task of the manifest: ``headrace run-task`` and every worker end here.

extractor: extract each table to a local folder, publish it to storage, load the stored
parts into the warehouse. transformation: the transformation plugin, in the warehouse.
datamart: publish ``dm_<id>``. Every outcome is written to ``headrace_meta.task_runs``;
a failure is raised as the error class that decides retries (``headrace.errors``).

A task first sweeps what killed tasks left (``headrace.sweep``). Its temporary extract
folder is removed when it ends, however it ends; older raw run folders in storage are
pruned after each successful load (``headrace.retention``). A stopped task
(``lifecycle.Terminated``) unwinds through the same cleanup and records nothing unless
its parent is gone (the parent knows why it stopped it: ``headrace.history``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from headrace import faults, lifecycle, plugins, retention, sweep
from headrace.errors import ConfigError, HeadraceError, TransientError
from headrace.history import settled
from headrace.paths import PROJECT_FILE, state_dir
from headrace.project.manifest import DatamartTask, ExtractedTable, ExtractorTask, Manifest, TransformationTask
from headrace.resolve import resolved_config
from headrace.results import ErrorClass, TaskResult, TransformationOutcome
from headrace.secrets import SecretResolver, redact
from headrace.storage import open_storage
from headrace.storage.base import Storage
from headrace.tablefiles import RESERVED_PREFIX, SCHEMA_FILE, TableSchema, reserved_columns
from headrace.warehouses import open_warehouse
from headrace.warehouses.base import LoadRequest, StoredPart, TaskRecord, Warehouse
from pydantic import BaseModel

Log = Callable[[str], None]


class TaskError(HeadraceError):
    """A task's failure with its error class, raised by ``run_task`` (message redacted)."""

    def __init__(self, message: str, error_class: ErrorClass):
        super().__init__(message)
        self.error_class: ErrorClass = error_class


class TaskContext:
    def __init__(self, manifest: Manifest, project_dir: Path, run_id: str, full_refresh: bool, log: Log):
        self.manifest = manifest
        self.project_dir = project_dir.resolve()
        self.state_dir = state_dir(self.project_dir)
        self.run_id = run_id
        self.full_refresh = full_refresh
        self.log = log
        self.secrets = SecretResolver(self.project_dir, manifest.project.secrets)

    def config(self, kind: plugins.Kind, raw: dict[str, Any], file: str, key: str) -> BaseModel:
        return resolved_config(kind, raw, self.secrets, file, key)

    @functools.cached_property
    def storage(self) -> Storage:
        return open_storage(
            self.config("storage", self.manifest.project.storage, PROJECT_FILE, "storage"), self.state_dir
        )

    def warehouse(self) -> Warehouse:
        wh = open_project_warehouse(self.manifest, self.project_dir, self.secrets)
        lifecycle.on_stop(wh.interrupt)  # a stop interrupts its running statement at once
        return wh


def open_project_warehouse(manifest: Manifest, project_dir: Path, secrets: SecretResolver | None = None) -> Warehouse:
    """The project's warehouse, its config resolved and validated (tasks, ``headrace query`` and friends)."""
    secrets = secrets or SecretResolver(project_dir.resolve(), manifest.project.secrets)
    config = resolved_config("warehouse", manifest.project.warehouse, secrets, PROJECT_FILE, "warehouse")
    return open_warehouse(config, state_dir(project_dir))


def _error_class(exc: BaseException) -> ErrorClass:
    if isinstance(exc, ConfigError):
        return "config"
    if isinstance(exc, TransientError) or _is_transient_driver_error(exc):
        return "transient"
    if isinstance(exc, TaskError):
        return exc.error_class
    return "task"


def _extract_tables(
    ctx: TaskContext, task: ExtractorTask
) -> tuple[dict[str, tuple[str, dict]], dict[str, BaseException]]:
    """Extract every table to storage; (table -> (storage key, new incremental state)), failures."""
    from headrace.components.extractor import ExtractContext, ExtractorFactory

    plugin = plugins.get("extractor", task.type)
    config: Any = ctx.config("extractor", task.config, task.source_file, "")
    extractor_class: ExtractorFactory = plugin.load()
    table_configs = {t.name: t for t in config.table_configs()}
    tmp = sweep.temp_folder(ctx.state_dir, task.component, ctx.run_id)
    states: dict[str, Any] = {}
    incremental = [t for t in task.tables if t.state_key]
    if incremental:
        with ctx.warehouse() as wh:
            for t in incremental:
                assert t.state_key is not None
                if ctx.full_refresh:
                    wh.reset_state(t.state_key)
                states[t.name] = wh.get_state(t.state_key) or {}

    def one(name: str, prefix: str) -> tuple[str, dict]:
        context = ExtractContext(
            task.component,
            ctx.run_id,
            ctx.project_dir,
            states.get(name, {}),
            ctx.full_refresh,
            ctx.log,
            tuple(ctx.manifest.project.security.allow_urls_to),
            task.part_format,
        )
        folder = tmp / name
        schema, new_state = extractor_class(config, context).extract(table_configs[name], folder)
        _check_columns(task, name, [c.name for c in schema.columns])
        faults.point("extract.before_upload")
        key = f"{prefix}/{ctx.run_id}"
        ctx.storage.upload_folder(folder, key)
        return key, new_state

    done: dict[str, tuple[str, dict]] = {}
    failed: dict[str, BaseException] = {}
    pool = ThreadPoolExecutor(max_workers=config.max_concurrency, thread_name_prefix="extract")
    try:
        futures = {t.name: pool.submit(one, t.name, t.storage_prefix) for t in task.tables}
        for name, future in futures.items():
            try:
                done[name] = future.result()
            except Exception as exc:
                failed[name] = exc
    finally:  # a stopped task does not wait for its extract threads (the process ends after cleanup)
        pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return done, failed


def _check_columns(task: ExtractorTask, table: str, names: list[str]) -> None:
    """Column names every warehouse can hold next to Headrace's own (checked before anything is stored)."""
    reserved = reserved_columns(names)
    lowered = [n.lower() for n in names]
    twice = sorted({n for n in names if lowered.count(n.lower()) > 1})
    if reserved or twice:
        problem = (
            f"column {reserved[0]!r} collides with Headrace's own columns ({RESERVED_PREFIX}...)"
            if reserved
            else f"column name(s) {', '.join(twice)} appear twice (warehouses such as DuckDB ignore case)"
        )
        raise ConfigError(
            f"{task.source_file}: table {table!r}: {problem}; rename or leave out the column in the source "
            "(a query can alias it, e.g. SELECT x AS x_2)"
        )


def stored_table(storage: Storage, key: str) -> tuple[TableSchema, list[StoredPart]]:
    """What ``schema.json`` under ``key`` says, and where each of its parts is: the load's input."""
    files = TableSchema.from_json(json.loads(storage.read_bytes(f"{key}/{SCHEMA_FILE}")))
    parts = [StoredPart(f"{key}/{name}", storage.uri(f"{key}/{name}")) for name in files.parts]
    return files, parts


def _run_extractor(ctx: TaskContext, task: ExtractorTask) -> TaskResult:
    if task.container is not None:  # type: container (docs/components.md): one image writes every table
        from headrace.containers.task import container_tables

        return _load_tables(ctx, task, task.tables, container_tables(ctx, task), {})
    done, failed = _extract_tables(ctx, task)
    return _load_tables(ctx, task, task.tables, done, failed)


def _load_tables(
    ctx: TaskContext,
    task: ExtractorTask | TransformationTask,
    tables: list[ExtractedTable],
    done: dict[str, tuple[str, dict]],
    failed: dict[str, BaseException],
) -> TaskResult:
    """Load each table of ``done`` (table -> storage key of this run's files, new state) into the
    task's schema; then raise for the tables of ``failed``."""
    result = TaskResult(task_id=task.id, status="success", rows=0, bytes=0)
    if done:
        with ctx.warehouse() as wh:
            for table in tables:
                if table.name not in done:
                    continue
                key, new_state = done[table.name]
                rebuild = ctx.full_refresh and table.load in ("incremental", "append", "upsert")
                mode = "full" if rebuild else table.load
                files, parts = stored_table(ctx.storage, key)
                request = LoadRequest(
                    task.target_schema,
                    table.name,
                    parts,
                    files,
                    mode,
                    table.primary_key,
                    ctx.run_id,
                    state_key=table.state_key,
                    state_value=new_state or None,
                )
                rows = wh.load(request, ctx.storage)
                ctx.log(f"{task.target_schema}.{table.name}: {rows:,} rows loaded ({mode})")
                _prune(ctx, wh, task, table.storage_prefix, f"{task.target_schema}.{table.name}")
                result.tables[f"{task.target_schema}.{table.name}"] = rows
                result.rows = (result.rows or 0) + rows
                result.bytes = (result.bytes or 0) + files.bytes
    if failed:
        lines = "\n".join(f"  {name}: {_message(exc)}" for name, exc in failed.items())
        message = f"{len(failed)} of {len(failed) + len(done)} table(s) failed:\n{lines}"
        classes = {_error_class(exc) for exc in failed.values()}
        error_class: ErrorClass = (
            "config" if "config" in classes else "transient" if classes == {"transient"} else "task"
        )
        raise TaskError(message, error_class)
    return result


def _prune(
    ctx: TaskContext, wh: Warehouse, task: ExtractorTask | TransformationTask, prefix: str, table_name: str
) -> None:
    keep = ctx.manifest.project.retention.keep_runs
    try:
        removed = retention.prune(ctx.storage, wh, prefix, table_name, task.id, ctx.run_id, keep)
    except Exception as exc:  # retention never fails a load that committed
        ctx.log(f"warning: could not prune old raw folders under {prefix}: {redact(_message(exc))}")
        return
    if removed:
        ctx.log(f"retention (keep_runs: {keep}): removed {len(removed)} older raw run folder(s) under {prefix}")


def _sweep(ctx: TaskContext, task: ExtractorTask | TransformationTask | DatamartTask) -> None:
    """Remove what killed tasks left in the warehouse and, for an extractor, in its files."""
    try:
        with ctx.warehouse() as wh:
            removed = sweep.sweep_warehouse(wh)
        if isinstance(task, ExtractorTask):
            prefixes = [t.storage_prefix for t in task.tables]
            max_age = sweep.longest_life(t.timeout for t in ctx.manifest.tasks.values())
            removed += sweep.sweep_files(ctx.state_dir, ctx.storage, prefixes, max_age)
    except Exception as exc:  # a sweep never fails the task; the next one or `headrace cleanup` tries again
        ctx.log(f"warning: could not remove what earlier tasks left: {redact(_message(exc))}")
        return
    sweep.report(ctx.log, removed)


def _run_transformation(ctx: TaskContext, task: TransformationTask) -> TaskResult:
    if task.container is not None:  # type: container: its outputs load into out_<id> like extracted tables
        from headrace.containers.task import container_tables

        return _load_tables(ctx, task, task.container.tables, container_tables(ctx, task), {})
    run = plugins.get("transformation", task.type).load()
    with ctx.warehouse() as wh:
        outcome: dict[str, int] | TransformationOutcome = run(wh, task, ctx.run_id, ctx.log, ctx.project_dir)
    if not isinstance(outcome, TransformationOutcome):  # a plugin that has no warnings returns its rows
        outcome = TransformationOutcome(rows=outcome)
    rows = outcome.rows
    tables = {f"{task.target_schema}.{k}": v for k, v in rows.items()}
    result = TaskResult(
        task_id=task.id, status="success", rows=sum(rows.values()), tables=tables, warnings=outcome.warnings
    )
    if result.warnings:
        task_warned(task, result)
    return result


def task_warned(task: TransformationTask, result: TaskResult) -> None:
    """The hook for notifications (issue 12: WARNING rows of an assertion "notify, once notifications
    exist"): a task that succeeded with ``result.warnings``. Until then the warnings are in the task's
    log (``warning: ...`` lines), in its result (``TaskResult.warnings``, shown by ``headrace run``
    and in the Airflow task log) and nowhere else: nothing is sent."""


def _run_datamart(ctx: TaskContext, task: DatamartTask) -> TaskResult:
    entries = [(t.source, t.name) for t in task.tables]
    with ctx.warehouse() as wh:
        wh.publish_datamart(task.target_schema, entries, task.materialization, task.readers)
    ctx.log(f"{task.target_schema}: {', '.join(t.name for t in task.tables)} ({task.materialization}s)")
    return TaskResult(
        task_id=task.id, status="success", tables={f"{task.target_schema}.{t.name}": 0 for t in task.tables}
    )


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, HeadraceError) else f"{type(exc).__name__}: {exc}"


def run_task(
    manifest: Manifest, task_id: str, project_dir: Path, run_id: str, full_refresh: bool = False, log: Log = print
) -> TaskResult:
    """Run one task; record it in headrace_meta; raise ``TaskError`` (secrets redacted) on failure."""
    task = manifest.task(task_id)
    ctx = TaskContext(manifest, project_dir, run_id, full_refresh, log)
    started = time.time()
    try:
        _sweep(ctx, task)
        if isinstance(task, ExtractorTask):
            result = _run_extractor(ctx, task)
        elif isinstance(task, TransformationTask):
            result = _run_transformation(ctx, task)
        else:
            result = _run_datamart(ctx, task)
    except lifecycle.Terminated:
        _stopped(ctx, task, started)
        raise
    except Exception as exc:
        if lifecycle.reason() is not None:  # the stop surfaced as a driver's error (DuckDB: "Query interrupted")
            _stopped(ctx, task, started)
            raise lifecycle.Terminated(lifecycle.reason() or "stopped") from None
        error_class = _error_class(exc)
        message = redact(_message(exc))
        record = _record(ctx, task, TaskRecord(run_id, task_id, "failed", started, time.time(), None, None, message))
        if record.status != "success":
            raise TaskError(message, error_class) from None
        ctx.log(f"warning: {message}")  # the loads committed: the task did its work
        return TaskResult(task_id=task_id, status="success", rows=record.rows, duration_s=record.row()[5])
    result.duration_s = round(time.time() - started, 3)
    _record(ctx, task, TaskRecord(run_id, task_id, "success", started, time.time(), result.rows, result.bytes, None))
    return result


def _stopped(ctx: TaskContext, task: AnyTask, started: float) -> None:
    """A stopped task removes whatever of its own work is still registered (its ``finally`` blocks
    may have been cut short by the stop), and records itself only when its parent is gone (the
    parent knows why it stopped it)."""
    me = lifecycle.owner_token()
    try:
        with ctx.warehouse() as wh:
            for kind, name in wh.leftovers(time.time(), lambda owner: owner == me or lifecycle.owner_dead(owner)):
                wh.remove_leftover(kind, name)
    except Exception as exc:  # the next task's sweep or `headrace cleanup` removes it
        ctx.log(f"warning: could not remove the working schema: {redact(_message(exc))}")
    if lifecycle.parent_gone():
        error = f"stopped ({lifecycle.reason()}): the process that started it ended"
        _record(ctx, task, TaskRecord(ctx.run_id, task.id, "cancelled", started, time.time(), None, None, error))


def _is_transient_driver_error(exc: BaseException) -> bool:
    """A dropped or refused connection raised by a driver (psycopg's OperationalError and kin)."""
    return any(
        cls.__name__ in ("OperationalError", "InterfaceError") and cls.__module__.startswith("psycopg")
        for cls in type(exc).__mro__
    )


AnyTask = ExtractorTask | TransformationTask | DatamartTask


def _record(ctx: TaskContext, task: AnyTask, record: TaskRecord) -> TaskRecord:
    """Record the run; a failure whose loads all committed is recorded (and returned) as success."""
    if record.error:  # redacted here, where the history row leaves the process
        record = dataclasses.replace(record, error=redact(record.error))
    try:
        with ctx.warehouse() as wh:
            record = settled(wh, task, record)
            wh.record_task(record)
    except Exception as exc:  # history must not hide the task's own outcome
        ctx.log(f"warning: could not record the run in headrace_meta: {redact(_message(exc))}")
    return record
