"""The run history tells the truth: ``headrace_meta.task_runs`` rows by whoever knows the outcome.

Statuses: ``success``, ``failed``, ``timeout``, ``cancelled``. The task process records
its own success or failure. When it was stopped (a timeout, a cancel, a stopped run) it
cleans up and exits with ``EXIT_TERMINATED`` without recording; the parent that stopped
it knows why and records ``timeout`` or ``cancelled`` (``record_stopped``), also when the
task was killed and could not. A task whose parent died records ``cancelled`` itself.

Whoever records a non-success first checks ``headrace_meta.table_loads``, written in each
load's own transaction: an extractor whose loads of this run all committed is recorded as
``success`` (the rows are in its tables), whatever happened to its process afterwards.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from headrace.project.manifest import ExtractorTask
from headrace.warehouses.base import TaskRecord, Warehouse

if TYPE_CHECKING:
    from headrace.project.manifest import DatamartTask, Manifest, TransformationTask

    AnyTask = ExtractorTask | TransformationTask | DatamartTask


def committed(wh: Warehouse, task: AnyTask, run_id: str) -> int | None:
    """Rows loaded if every table of this extractor task committed its load of ``run_id``, else None."""
    if not isinstance(task, ExtractorTask) or not task.tables:
        return None
    loaded = wh.loads_of_run(run_id)
    names = [f"{task.target_schema}.{t.name}" for t in task.tables]
    if not all(name in loaded for name in names):
        return None
    return sum(loaded[name] for name in names)


def settled(wh: Warehouse, task: AnyTask, record: TaskRecord) -> TaskRecord:
    """``record``, or ``success`` when it reports a failure or a stop but the task's loads all committed."""
    if record.status == "success":
        return record
    rows = committed(wh, task, record.run_id)
    if rows is None:
        return record
    note = f"every table was loaded and committed; afterwards the task ended: {record.status}"
    note += f" ({record.error})" if record.error else ""
    return TaskRecord(
        record.run_id, record.task_id, "success", record.started_at, record.ended_at, rows, record.bytes, note
    )


def record_stopped(
    manifest: Manifest, project_dir: Path, run_id: str, task_id: str, status: str, started: float, error: str | None
) -> str:
    """Record a task that ended without recording itself (stopped, killed); the status recorded.

    Nothing is written when the task recorded this attempt itself. A warehouse that cannot
    be reached leaves the history as it is (the caller still reports ``status``). The
    Airflow operator, which must not import warehouses, calls this through the hidden
    ``headrace task-stopped`` command.
    """
    from headrace.runner import open_project_warehouse
    from headrace.secrets import redact

    try:
        with open_project_warehouse(manifest, project_dir) as wh:
            if wh.task_recorded(run_id, task_id, started):
                return status
            task = manifest.task(task_id)
            record = settled(wh, task, TaskRecord(run_id, task_id, status, started, time.time(), None, None, error))
            wh.record_task(record)
            return record.status
    except Exception as exc:  # the history must not hide the task's own outcome
        print(f"[{task_id}] warning: could not record the run in headrace_meta: {redact(str(exc))}", flush=True)
        return status
