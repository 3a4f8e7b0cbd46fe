"""Run a plan on this machine: stages in order, the tasks of a stage in parallel.

Each task is its own ``headrace run-task`` process (the same entry point Airflow calls),
started on the worker its ``runs_on`` names, so a per-task timeout can stop it and
parallel tasks really run at the same time. A transient failure (exit 75) is tried again
after ``retry_delay`` seconds, doubling, up to the task's ``retries``; a configuration
error (exit 2) never is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from headrace.plan import Plan
from headrace.project.manifest import Manifest
from headrace.results import TaskResult
from headrace.secrets import SecretResolver
from headrace.workers import open_worker
from headrace.workers.base import WorkSpec, run_task_command

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
    secrets = SecretResolver(project_dir.resolve())
    # the task processes resolve and redact their own secrets; this process blanks the same values
    # out of whatever it shows of them (their output, their errors)
    secrets.remember_referenced(manifest.model_dump_json())

    def say(task_id: str, line: str) -> None:
        with lock:
            echo(task_id, line)

    def one(task_id: str) -> TaskResult:
        task = manifest.task(task_id)
        spec = WorkSpec(run_task_command(task_id, project_dir, run_id, full_refresh), timeout_s=task.timeout)
        delay = manifest.project.defaults.retry_delay
        attempt = 0
        while True:
            worker = open_worker(task.runs_on, manifest.project.worker, secrets)
            result = worker.run(spec, lambda line: say(task_id, line)).task_result(task_id, task.timeout)
            if result.error_class != "transient" or result.status == "timeout" or attempt >= task.retries:
                return result
            attempt += 1
            say(task_id, f"transient failure; try {attempt + 1} of {task.retries + 1} in {delay} s")
            time.sleep(delay)
            delay *= 2

    for stage in plan.stages:
        if stop:
            results += [TaskResult(task_id=t, status="skipped", error="an earlier task failed") for t in stage]
            continue
        with ThreadPoolExecutor(max_workers=min(max_parallel, len(stage))) as pool:
            stage_results = list(pool.map(one, stage))
        results += stage_results
        if any(r.status != "success" for r in stage_results) and not plan.continue_on_error:
            stop = True
    return results
