"""The ``local`` worker: the task as a subprocess on this machine, in its own process group.

Used by ``headrace run`` and by the Airflow task on a single machine. The task's output
streams line by line to ``on_line``; a timeout or ``cancel`` stops its whole process tree
(TERM, then KILL after a grace period in which the task cleans up), children that left the
group included. The task gets this process's pid (``HEADRACE_PARENT_PID``) and stops
itself when this process dies, SIGKILL included (``headrace.lifecycle``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Strict
from headrace.results import TaskResult
from headrace.workers.base import KILL_GRACE_S, PARENT_PID_ENV, Worker, WorkerCapabilities, WorkerOutcome, WorkSpec

CAPABILITIES = WorkerCapabilities(runs_images=False)


class LocalWorkerConfig(Strict):
    """Tasks run as subprocesses on the machine that runs Headrace or Airflow."""

    type: Literal["local"] = "local"


def stop_tree(proc: subprocess.Popen[str], grace_s: float = KILL_GRACE_S) -> None:
    """TERM the process and every descendant, then KILL those still alive after ``grace_s``.

    The root is waited for through ``Popen`` (psutil would reap it and lose its exit status);
    descendants are not our children, so psutil only watches them.
    """
    import psutil

    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    for target in descendants:
        with contextlib.suppress(psutil.NoSuchProcess):
            target.terminate()
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
    _, alive = psutil.wait_procs(descendants, timeout=grace_s if proc.returncode is None else 1.0)
    for target in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            target.kill()


class LocalWorker(Worker):
    capabilities = CAPABILITIES

    def __init__(self, config: LocalWorkerConfig | None = None) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._stopping = threading.Lock()
        self._cancelled = threading.Event()

    def run(self, spec: WorkSpec, on_line: Callable[[str], None]) -> WorkerOutcome:
        self.check(spec)
        proc = subprocess.Popen(
            spec.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
            cwd=spec.cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **spec.env, PARENT_PID_ENV: str(os.getpid())},
        )
        self._proc = proc
        if self._cancelled.is_set():  # cancelled before it started
            self.cancel()
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            self._stop(proc)

        timer = threading.Timer(spec.timeout_s, on_timeout) if spec.timeout_s else None
        if timer:
            timer.daemon = True
            timer.start()
        result: TaskResult | None = None
        tail: list[str] = []
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                parsed = TaskResult.from_line(line)
                if parsed is not None:
                    result = parsed
                    continue
                tail = [*tail[-19:], line]
                on_line(line)
            proc.wait()
        except BaseException:  # e.g. Airflow's execution timeout raised here: the task still cleans up
            self._cancelled.set()
            self._stop(proc)
            raise
        finally:
            self._proc = None
            if timer:
                timer.cancel()
        cancelled = self._cancelled.is_set() and not timed_out.is_set()
        return WorkerOutcome(proc.returncode, timed_out.is_set(), result, tail, cancelled)

    def _stop(self, proc: subprocess.Popen[str], grace_s: float = KILL_GRACE_S) -> None:
        if proc.poll() is None:
            with self._stopping:
                stop_tree(proc, grace_s)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # descendants whose parent died left the tree, not the group

    def cancel(self) -> None:
        """Stop the running task's process tree; called from another thread or a signal handler."""
        self._cancelled.set()
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        thread = threading.Thread(target=self._stop, args=(proc,), name="cancel", daemon=True)
        thread.start()


plugin = Plugin(
    "worker",
    "local",
    LocalWorkerConfig,
    "headrace.workers.local:LocalWorker",
    CAPABILITIES,
    description="a subprocess on the machine that runs Headrace or Airflow",
)
