"""Run a plan on this machine: stages in order, the tasks of a stage in parallel.

Each task is its own ``headrace run-task`` process (the same entry point Airflow calls),
so a per-task timeout can stop it and parallel tasks really run at the same time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from headrace.plan import Plan
from headrace.runner import TaskResult
from headrace.workers.local import LocalWorker, run_task_command


def run_plan(
    plan: Plan,
    manifest: dict[str, Any],
    project_dir: Path,
    run_id: str,
    full_refresh: bool = False,
    echo: Callable[[str, str], None] = lambda task, line: print(f"[{task}] {line}"),
    max_parallel: int = 8,
) -> list[TaskResult]:
    results: list[TaskResult] = []
    lock = threading.Lock()
    stop = False
    worker = LocalWorker()

    def one(task_id: str) -> TaskResult:
        timeout = manifest["tasks"][task_id]["timeout"]
        outcome = worker.run(
            run_task_command(task_id, project_dir, run_id, full_refresh),
            lambda line: _locked(lock, echo, task_id, line),
            timeout,
        )
        data = outcome.result or {}
        if outcome.timed_out:
            return TaskResult(task_id, "timeout", error=f"stopped after the task timeout of {timeout} s")
        if outcome.returncode == 0:
            return TaskResult(
                task_id,
                "success",
                data.get("rows"),
                data.get("bytes"),
                data.get("duration_s", 0.0),
                tables=data.get("tables", {}),
            )
        error = data.get("error") or "\n".join(outcome.last_lines[-5:]) or f"exit code {outcome.returncode}"
        return TaskResult(task_id, "failed", duration_s=data.get("duration_s", 0.0), error=error)

    for stage in plan.stages:
        if stop:
            results += [TaskResult(t, "skipped", error="an earlier task failed") for t in stage]
            continue
        with ThreadPoolExecutor(max_workers=min(max_parallel, len(stage))) as pool:
            stage_results = list(pool.map(one, stage))
        results += stage_results
        if any(r.status != "success" for r in stage_results) and not plan.continue_on_error:
            stop = True
    return results


def _locked(lock: threading.Lock, echo: Callable[[str, str], None], task: str, line: str) -> None:
    with lock:
        echo(task, line)
