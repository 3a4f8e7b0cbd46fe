"""The Airflow operator's cancel (``on_kill``) and timeout end the task and tell the history why.

The operator runs in this process (its ``execute`` in a thread, ``on_kill`` from the test,
as Airflow's task runner calls it on SIGTERM), without an Airflow server: what is tested
is the operator's termination path, down to the real ``headrace run-task`` process and
the real warehouse.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conformance.targets import Target
from tests.helpers import run_ok
from tests.security.test_cleanup import (
    LONG_SQL,
    _history,
    _no_task_process_left,
    _project,
    _working_roles,
    _working_schemas,
)

pytestmark = pytest.mark.integration
pytest.importorskip("airflow.sdk")


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args)

    warning = info


def _operator(project: Path, timeout_s: int) -> Any:
    from headrace.orchestrator.operators import HeadraceTaskOperator

    class Operator(HeadraceTaskOperator):
        log = _Log()

    return Operator(
        task_id="calc",
        headrace_task="transformation:calc",
        project_dir=str(project),
        worker_type="local",
        worker_timeout_s=timeout_s,
    )


def _context() -> dict[str, Any]:
    dag_run = SimpleNamespace(dag_id="transformation_calc", run_id="manual__1", run_after=datetime.now(UTC))
    return {"dag_run": dag_run, "ti": SimpleNamespace(try_number=1), "params": {}}


def _execute_in_thread(op: Any) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            op.execute(_context())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, errors


def _wait_for_line(op: Any, text: str) -> None:
    deadline = time.monotonic() + 60
    while not any(text in line for line in op.log.lines) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_airflow_cancel_stops_the_task_and_records_cancelled(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target, LONG_SQL[target.name], timeout=600)
    run_ok("run", "extractor:src", "--project", str(project))
    op = _operator(project, 600)
    thread, errors = _execute_in_thread(op)
    _wait_for_line(op, "working schema tr_calc_")
    op.on_kill()  # what Airflow's task runner does on SIGTERM (cancel from the UI, mark failed)
    thread.join(60)
    assert not thread.is_alive()
    assert len(errors) == 1 and "was cancelled" in str(errors[0])
    assert _no_task_process_left(project) == []
    assert [s for s, _ in _history(target, "transformation:calc")] == ["cancelled"]
    assert _working_schemas(target) == [] and _working_roles(target) == []


def test_airflow_task_timeout_stops_the_task_and_records_timeout(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target, LONG_SQL[target.name], timeout=600)
    run_ok("run", "extractor:src", "--project", str(project))
    op = _operator(project, 3)
    thread, errors = _execute_in_thread(op)
    thread.join(90)
    assert not thread.is_alive()
    assert len(errors) == 1 and "stopped after its timeout of 3 s" in str(errors[0])
    assert _no_task_process_left(project) == []
    assert [s for s, _ in _history(target, "transformation:calc")] == ["timeout"]
    assert _working_schemas(target) == [] and _working_roles(target) == []
