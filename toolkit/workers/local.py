"""Run ``headrace run-task`` as a subprocess in its own process group.

Used by ``headrace run`` and by the Airflow task: the task's output streams line by
line to ``on_line``; a timeout stops the whole process group (TERM, then KILL).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULT_PREFIX = "HEADRACE_RESULT "
KILL_GRACE_S = 10.0


@dataclass
class WorkerOutcome:
    returncode: int
    timed_out: bool
    result: dict[str, Any] | None
    last_lines: list[str]


def run_task_command(task_id: str, project_dir: Path, run_id: str, full_refresh: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "headrace", "run-task", task_id, "--project", str(project_dir), "--run-id", run_id]
    return [*cmd, "--full-refresh"] if full_refresh else cmd


class LocalWorker:
    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None

    def run(
        self,
        command: list[str],
        on_line: Callable[[str], None],
        timeout_s: float | None,
        env: dict[str, str] | None = None,
    ) -> WorkerOutcome:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self._proc = proc
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(KILL_GRACE_S)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)

        timer = threading.Timer(timeout_s, stop) if timeout_s else None
        if timer:
            timer.daemon = True
            timer.start()
        result: dict[str, Any] | None = None
        tail: list[str] = []
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                if line.startswith(RESULT_PREFIX):
                    result = json.loads(line[len(RESULT_PREFIX) :])
                    continue
                tail = [*tail[-19:], line]
                on_line(line)
            proc.wait()
        except BaseException:
            _signal_group(proc, signal.SIGKILL)
            raise
        finally:
            self._proc = None
            if timer:
                timer.cancel()
        return WorkerOutcome(proc.returncode, timed_out.is_set(), result, tail)

    def cancel(self) -> None:
        """Stop the running command's process group (TERM, then KILL after a grace period).

        Called from another thread or a signal handler (Airflow's ``on_kill``): ``run``
        then returns with the command's exit status.
        """
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        _signal_group(proc, signal.SIGTERM)
        killer = threading.Timer(KILL_GRACE_S, lambda: proc.poll() is None and _signal_group(proc, signal.SIGKILL))
        killer.daemon = True
        killer.start()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
