"""One run of a container component, from ``/data`` staged to its tables in storage.

``headrace.runner`` hands a task whose manifest entry has ``container`` here; what comes back
is the runner's own extract result (table -> storage key of the run, new state), so the tables
load exactly as an extractor's do (a transformation's outputs into ``out_<id>``, in full).
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from headrace import lifecycle, sweep
from headrace.containers.image import prepare
from headrace.containers.outputs import checked_tables
from headrace.containers.stage import stage
from headrace.errors import EXIT_PROJECT_INVALID, EXIT_TRANSIENT, ConfigError, TaskFailed, TransientError
from headrace.project.manifest import ContainerRun, ExtractorTask, TransformationTask
from headrace.redaction import redact
from headrace.workers import open_worker
from headrace.workers.base import WorkerOutcome, WorkSpec
from headrace.workers.docker import LABEL_RUN, LABEL_TASK

if TYPE_CHECKING:
    from headrace.runner import TaskContext

LOG_LINES = 10  # of the container's last output lines, in the error of a failed run


def container_tables(ctx: TaskContext, task: ExtractorTask | TransformationTask) -> dict[str, tuple[str, dict]]:
    """Run the component's image and store what it wrote: table -> (storage key, state ``{}``).

    Raises ``ConfigError`` for an exit code 2 (not retried), ``TransientError`` for an engine
    that does not answer or a timeout, ``TaskFailed`` for any other failure and for output
    that breaks the contract; nothing is stored then.
    """
    run = task.container
    assert run is not None
    kind = "extractor" if isinstance(task, ExtractorTask) else "transformation"
    config: Any = ctx.config(kind, task.config, task.source_file, "")  # env's ${secret:...} resolved (and redacted)
    tables = task.tables if isinstance(task, ExtractorTask) else run.tables
    inputs = task.inputs if isinstance(task, TransformationTask) else []
    tmp = sweep.temp_folder(ctx.state_dir, task.component, ctx.run_id)
    try:
        data_in, data_out = tmp / "data", tmp / "out"
        stage(data_in, dict(config.config), inputs, ctx.warehouse, ctx.log)
        worker = open_worker(run.worker, ctx.manifest.project.worker, ctx.secrets)
        lifecycle.on_stop(lambda _stopped_at: worker.cancel())

        def on_line(line: str) -> None:
            ctx.log(redact(line))

        prepare(run, worker, ctx.project_dir, task.source_file, on_line)
        spec = WorkSpec(
            command=[],
            env=dict(config.env),
            timeout_s=task.timeout,
            image=run.image,
            cwd=ctx.project_dir,  # a VM worker keeps its leases in this project's state folder
            data_in=data_in,
            data_out=data_out,
            labels={LABEL_TASK: task.id, LABEL_RUN: ctx.run_id},
        )
        ctx.log(f"running {run.image} on the {run.worker} worker")
        outcome = worker.run(spec, on_line)
        _check_outcome(outcome, run, task)
        folders = checked_tables(data_out, [t.name for t in tables], task.source_file)
        done: dict[str, tuple[str, dict]] = {}
        for table in tables:
            key = f"{table.storage_prefix}/{ctx.run_id}"
            ctx.storage.upload_folder(folders[table.name], key)
            done[table.name] = (key, {})
        return done
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_outcome(outcome: WorkerOutcome, run: ContainerRun, task: ExtractorTask | TransformationTask) -> None:
    if outcome.cancelled:
        raise lifecycle.Terminated(lifecycle.reason() or "stopped")
    file = task.source_file
    if outcome.timed_out:
        raise TransientError(
            f"{file}: {run.image} ran longer than the task's timeout of {task.timeout} s and was stopped"
        )
    if outcome.returncode == 0:
        return
    tail = "\n".join(redact(line) for line in outcome.last_lines[-LOG_LINES:]) or "(no output)"
    if outcome.returncode == EXIT_PROJECT_INVALID:
        raise ConfigError(
            f"{file}: {run.image} exited with code 2, a configuration error (not retried): fix the component's "
            f"config: or env: as its output says; its last lines:\n{tail}"
        )
    if outcome.returncode == EXIT_TRANSIENT:
        raise TransientError(
            f"{file}: {run.image} could not run now (exit code {EXIT_TRANSIENT}); its last lines:\n{tail}"
        )
    raise TaskFailed(
        f"{file}: {run.image} failed with exit code {outcome.returncode}; its last lines:\n{tail}\nnothing was loaded"
    )
