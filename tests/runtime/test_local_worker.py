"""The worker protocol on the ``local`` worker: lines stream, the typed result comes back, trees stop."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from headrace.results import TaskResult
from headrace.workers.base import WorkSpec
from headrace.workers.local import LocalWorker

pytestmark = pytest.mark.integration

CHILD = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(f"grandchild {grandchild.pid}", flush=True)
time.sleep(600)
"""


def _pid(lines: list[str]) -> int:
    return int(next(line for line in lines if line.startswith("grandchild")).split()[1])


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


def test_lines_stream_and_the_typed_result_comes_back(tmp_path: Path) -> None:
    result = TaskResult(task_id="extractor:x", status="success", rows=3, tables={"in_x.t": 3})
    code = f"print('hello'); print({result.to_line()!r}); print('bye')"
    lines: list[str] = []
    outcome = LocalWorker().run(WorkSpec([sys.executable, "-c", code], cwd=tmp_path), lines.append)
    assert outcome.returncode == 0 and not outcome.timed_out
    assert lines == ["hello", "bye"]  # the result line is the protocol's, not the log's
    assert outcome.result == result


def test_a_timeout_stops_the_whole_process_tree() -> None:
    lines: list[str] = []
    outcome = LocalWorker().run(WorkSpec([sys.executable, "-c", CHILD], timeout_s=2), lines.append)
    assert outcome.timed_out
    assert outcome.result is None
    assert _gone(_pid(lines))


def test_cancel_from_another_thread_stops_the_tree() -> None:
    worker = LocalWorker()
    lines: list[str] = []

    def cancel_when_started() -> None:
        while not any(line.startswith("grandchild") for line in lines):
            time.sleep(0.05)
        worker.cancel()

    canceller = threading.Thread(target=cancel_when_started, daemon=True)
    canceller.start()
    outcome = worker.run(WorkSpec([sys.executable, "-c", CHILD]), lines.append)
    canceller.join(10)
    assert outcome.returncode != 0 and not outcome.timed_out
    assert _gone(_pid(lines))


def test_a_process_worker_refuses_an_image() -> None:
    from headrace.errors import ConfigError

    with pytest.raises(ConfigError, match="runs processes, not container images"):
        LocalWorker().run(WorkSpec(["true"], image="headrace-worker:0.1.0"), print)
