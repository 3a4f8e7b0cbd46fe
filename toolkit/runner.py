"""Run one task of the manifest: ``headrace run-task`` and every worker end here.

extractor: extract each table to local parts, publish them to storage, load them into
the warehouse. transformation: SQL in a working schema. datamart: publish ``dm_<id>``.
Every outcome is written to ``headrace_meta.task_runs``.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headrace import faults
from headrace.errors import HeadraceError, TaskFailed
from headrace.paths import state_dir
from headrace.secrets import SecretResolver, redact
from headrace.storage import open_storage
from headrace.storage.base import Storage
from headrace.tablefiles import SCHEMA_FILE, TableSchema
from headrace.warehouses import open_warehouse
from headrace.warehouses.base import LoadRequest, TaskRecord, Warehouse

Log = Callable[[str], None]


@dataclass
class TaskResult:
    task_id: str
    status: str
    rows: int | None = None
    bytes: int | None = None
    duration_s: float = 0.0
    error: str | None = None
    tables: dict[str, int] = field(default_factory=dict)


class TaskContext:
    def __init__(self, manifest: dict[str, Any], project_dir: Path, run_id: str, full_refresh: bool, log: Log):
        self.manifest = manifest
        self.project_dir = project_dir.resolve()
        self.state_dir = state_dir(self.project_dir)
        self.run_id = run_id
        self.full_refresh = full_refresh
        self.log = log
        self.secrets = SecretResolver(self.project_dir)

    @functools.cached_property
    def storage(self) -> Storage:
        return open_storage(self.manifest["project"]["storage"], self.state_dir)

    def warehouse(self) -> Warehouse:
        config = self.secrets.resolve(self.manifest["project"]["warehouse"])
        return open_warehouse(config, self.state_dir)


def _extract_tables(ctx: TaskContext, task: dict[str, Any]) -> tuple[dict[str, tuple[str, dict]], dict[str, str]]:
    """Extract every table to storage; (table -> (storage key, new incremental state)), failures."""
    from headrace.extractors import registry
    from headrace.extractors.base import ExtractContext

    module = registry.load(task["config"]["type"])
    config = module.Config.model_validate(ctx.secrets.resolve(task["config"]))
    ext_id = task["component"]
    tmp = ctx.state_dir / "tmp" / f"{ext_id}-{ctx.run_id}"
    states: dict[str, Any] = {}
    incremental = [t for t in config.table_configs() if t.load == "incremental"]
    if incremental:
        with ctx.warehouse() as wh:
            for t in incremental:
                key = f"cursor:{task['schema']}.{t.name}"
                if ctx.full_refresh:
                    wh.reset_state(key)
                states[t.name] = wh.get_state(key) or {}

    def one(table: Any) -> tuple[str, dict]:
        extractor = module.Extractor(
            config,
            ExtractContext(
                ext_id,
                ctx.run_id,
                ctx.project_dir,
                ctx.secrets.resolve,
                states.get(table.name, {}),
                ctx.full_refresh,
                ctx.log,
            ),
        )
        folder = tmp / table.name
        _, new_state = extractor.extract(table, folder)
        faults.point("extract.before_upload")
        key = f"raw/{ext_id}/{table.name}/{ctx.run_id}"
        ctx.storage.upload_folder(folder, key)
        return key, new_state

    done: dict[str, tuple[str, dict]] = {}
    failed: dict[str, str] = {}
    try:
        with ThreadPoolExecutor(max_workers=config.max_concurrency, thread_name_prefix="extract") as pool:
            futures = {t.name: pool.submit(one, t) for t in config.table_configs()}
            for name, future in futures.items():
                try:
                    done[name] = future.result()
                except Exception as exc:
                    failed[name] = str(exc) if isinstance(exc, HeadraceError) else f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return done, failed


def _run_extractor(ctx: TaskContext, task: dict[str, Any]) -> TaskResult:
    done, failed = _extract_tables(ctx, task)
    tables_cfg = {t["name"]: t for t in task["config"]["tables"]}
    result = TaskResult(task["id"], "success", rows=0, bytes=0)
    if done:
        with ctx.warehouse() as wh:
            for name, (key, new_state) in done.items():
                cfg = tables_cfg[name]
                rebuild = ctx.full_refresh and cfg["load"] in ("incremental", "append", "upsert")
                mode = "full" if rebuild else cfg["load"]
                with ctx.storage.local_folder(key) as folder:
                    # the load reads what was stored, schema.json included: the contract, not memory
                    files = TableSchema.from_json(json.loads((folder / SCHEMA_FILE).read_text(encoding="utf-8")))
                    rows = wh.load(
                        LoadRequest(
                            task["schema"],
                            name,
                            folder,
                            files,
                            mode,
                            cfg.get("primary_key") or [],
                            ctx.run_id,
                            state_key=f"cursor:{task['schema']}.{name}" if cfg["load"] == "incremental" else None,
                            state_value=new_state or None,
                        )
                    )
                ctx.log(f"{task['schema']}.{name}: {rows:,} rows loaded ({mode})")
                result.tables[f"{task['schema']}.{name}"] = rows
                result.rows = (result.rows or 0) + rows
                result.bytes = (result.bytes or 0) + files.bytes
    if failed:
        lines = "\n".join(f"  {name}: {message}" for name, message in failed.items())
        raise TaskFailed(f"{len(failed)} of {len(failed) + len(done)} table(s) failed:\n{lines}")
    return result


def _run_transformation(ctx: TaskContext, task: dict[str, Any]) -> TaskResult:
    from headrace.transformations.sql import run_sql_transformation

    with ctx.warehouse() as wh:
        rows = run_sql_transformation(wh, task, ctx.run_id, ctx.log)
    return TaskResult(
        task["id"], "success", rows=sum(rows.values()), tables={f"{task['schema']}.{k}": v for k, v in rows.items()}
    )


def _run_datamart(ctx: TaskContext, task: dict[str, Any]) -> TaskResult:
    config = task["config"]
    entries = [(t["table"], t.get("as") or t["table"].split(".")[1]) for t in config["tables"]]
    with ctx.warehouse() as wh:
        wh.publish_datamart(task["schema"], entries, config["materialization"], config.get("readers") or [])
    ctx.log(f"{task['schema']}: {', '.join(name for _, name in entries)} ({config['materialization']}s)")
    return TaskResult(task["id"], "success", tables={f"{task['schema']}.{n}": 0 for _, n in entries})


RUNNERS = {"extractor": _run_extractor, "transformation": _run_transformation, "datamart": _run_datamart}


def run_task(
    manifest: dict[str, Any], task_id: str, project_dir: Path, run_id: str, full_refresh: bool = False, log: Log = print
) -> TaskResult:
    """Run one task; record it in headrace_meta; raise TaskFailed (secrets redacted) on failure."""
    if task_id not in manifest["tasks"]:
        raise TaskFailed(f"no task {task_id!r} in the manifest; known: {', '.join(sorted(manifest['tasks']))}")
    task = manifest["tasks"][task_id]
    ctx = TaskContext(manifest, project_dir, run_id, full_refresh, log)
    started = time.time()
    try:
        result = RUNNERS[task["kind"]](ctx, task)
    except Exception as exc:
        message = redact(str(exc) if isinstance(exc, HeadraceError) else f"{type(exc).__name__}: {exc}")
        _record(ctx, TaskRecord(run_id, task_id, "failed", started, time.time(), None, None, message))
        raise TaskFailed(message) from None
    result.duration_s = time.time() - started
    _record(ctx, TaskRecord(run_id, task_id, "success", started, time.time(), result.rows, result.bytes, None))
    return result


def _record(ctx: TaskContext, record: TaskRecord) -> None:
    try:
        with ctx.warehouse() as wh:
            wh.record_task(record)
    except Exception as exc:  # history must not hide the task's own outcome
        ctx.log(f"warning: could not record the run in headrace_meta: {redact(str(exc))}")
