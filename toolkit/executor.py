"""Run a plan on this machine: stages in order, the tasks of a stage in parallel (a task of a
stage waits for those of its stage that produce its inputs: ``Plan.after``).

Each task is its own ``headrace run-task`` process (the same entry point Airflow calls),
started on the worker its ``runs_on`` names, so a per-task timeout can stop it and
parallel tasks really run at the same time. A transient failure (exit 75) is tried again
after ``retry_delay`` seconds, doubling, up to the task's ``retries``; a configuration
error (exit 2) never is.

Interrupted (Ctrl-C, SIGTERM: ``KeyboardInterrupt`` in the main thread), the run cancels
every running task (each cleans up within the worker's grace period), records them as
``cancelled``, starts nothing more and re-raises. A task stopped by its timeout is
recorded as ``timeout``. Should this process die outright (SIGKILL), each task notices
that its parent is gone and stops itself (``headrace.lifecycle``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from headrace.history import record_stopped
from headrace.plan import Plan
from headrace.project.manifest import Manifest
from headrace.results import TaskResult
from headrace.secrets import SecretResolver
from headrace.secrets.maskline import MaskChannel
from headrace.workers import open_worker
from headrace.workers.base import TaskCall, Worker, WorkSpec

Echo = Callable[[str, str], None]


def run_plan(
    plan: Plan,
    manifest: Manifest,
    project_dir: Path,
    run_id: str,
    full_refresh: bool = False,
    echo: Echo = lambda task, line: print(f"[{task}] {line}"),
    max_parallel: int = 8,
) -> list[TaskResult]:
    results: list[TaskResult] = []
    lock = threading.Lock()
    stop = False
    interrupted = threading.Event()
    running: set[Worker] = set()
    secrets = SecretResolver(project_dir.resolve(), manifest.project.secrets)
    # the task processes resolve and redact their own secrets; this process blanks the same values
    # out of whatever it shows of them (their output, their errors): it resolves local ones itself,
    # and learns those a task fetched from a cloud secret manager through the mask channel
    secrets.remember_referenced(manifest.model_dump_json())

    def say(task_id: str, line: str) -> None:
        with lock:
            echo(task_id, line)

    def one(task_id: str) -> TaskResult:
        task = manifest.task(task_id)
        channel = MaskChannel()
        call = TaskCall(task_id, project_dir, run_id, full_refresh)
        spec = WorkSpec(call.command(), env=channel.env(), timeout_s=task.timeout, task=call)
        delay = manifest.project.defaults.retry_delay
        attempt = 0
        while True:
            worker = open_worker(task.runs_on, manifest.project.worker, secrets)
            with lock:
                if interrupted.is_set():
                    return TaskResult(task_id=task_id, status="skipped", error="the run was interrupted")
                running.add(worker)
            started = time.time()
            try:
                outcome = worker.run(spec, lambda line: None if channel.take(line) else say(task_id, line))
            finally:
                with lock:
                    running.discard(worker)
            result = outcome.task_result(task_id, task.timeout)
            if outcome.result is None and result.status != "success":  # the task could not record itself
                status = record_stopped(manifest, project_dir, run_id, task_id, result.status, started, result.error)
                if status == "success":
                    result = TaskResult(task_id=task_id, status="success", error=result.error)
            final = interrupted.is_set() or result.status in ("timeout", "cancelled") or attempt >= task.retries
            if final or result.error_class != "transient":
                return result
            attempt += 1
            say(task_id, f"transient failure; try {attempt + 1} of {task.retries + 1} in {delay} s")
            interrupted.wait(delay)  # an interrupted run does not wait for the retry
            delay *= 2

    def run_stage(stage: list[str]) -> list[TaskResult]:
        """The stage's tasks in parallel, each once the tasks of its stage it runs after (``plan.after``)
        have ended: successfully, unless ``continue_on_error``; else it is skipped."""
        done: dict[str, TaskResult] = {}
        waiting = list(stage)
        pending: dict[Future[TaskResult], str] = {}
        with ThreadPoolExecutor(max_workers=min(max_parallel, len(stage))) as pool:
            try:
                while waiting or pending:
                    moved = False
                    for task_id in list(waiting):
                        before = [t for t in plan.after.get(task_id, []) if t in stage]
                        if any(t not in done for t in before):
                            continue
                        waiting.remove(task_id)
                        moved = True
                        failed = [t for t in before if done[t].status != "success"]
                        if failed and not plan.continue_on_error:
                            error = f"{', '.join(failed)} did not succeed, and it produces this task's input"
                            done[task_id] = TaskResult(task_id=task_id, status="skipped", error=error)
                        else:
                            pending[pool.submit(one, task_id)] = task_id
                    if not pending:
                        if not moved:  # the compiler refuses cycles: a manifest written by hand
                            raise RuntimeError(f"tasks wait for each other: {', '.join(waiting)}")
                        continue
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        done[pending.pop(future)] = future.result()
            except BaseException:  # Ctrl-C or SIGTERM: stop the running tasks, let them clean up
                with lock:
                    interrupted.set()
                    for worker in running:
                        worker.cancel()
                raise
        return [done[t] for t in stage]

    for stage in plan.stages:
        if stop:
            results += [TaskResult(task_id=t, status="skipped", error="an earlier task failed") for t in stage]
            continue
        stage_results = run_stage(stage)
        results += stage_results
        if any(r.status != "success" for r in stage_results) and not plan.continue_on_error:
            stop = True
    return results
