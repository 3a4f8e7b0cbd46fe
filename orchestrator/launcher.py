"""Start and stop a local Airflow (``headrace.orchestrator.supervisor``) as one process group.

``setsid`` semantics (``start_new_session``): the supervisor leads a new process group
holding the scheduler, DAG processor, triggerer and API server it starts, so ``down``
stops all of them with one signal to the group. A signal to the leader alone could
orphan its children.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from headrace.errors import HeadraceError
from headrace.orchestrator.api import AirflowApi
from headrace.orchestrator.localenv import LocalAirflow, read_launch, save_launch

HEALTH_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 60.0


class LaunchError(HeadraceError):
    """Airflow did not start or stop; the message says where to look."""


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the API server binds: TIME_WAIT is fine
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel about the group as a whole
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp ...
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def running_pid(config: LocalAirflow) -> int | None:
    """The process group of a standalone Airflow started for this home, if it still runs."""
    launch = read_launch(config)
    if not launch:
        return None
    pid = int(launch["pid"])
    return pid if _group_members(pid) else None


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(config: LocalAirflow, env: dict[str, str], timeout_s: float = HEALTH_TIMEOUT_S) -> int:
    """Start Airflow and return the supervisor's pid once the API reports itself healthy."""
    if not port_free(config.port):
        raise LaunchError(f"port {config.port} on 127.0.0.1 is in use: pass another one with --port")
    config.airflow_home.mkdir(parents=True, exist_ok=True)
    with config.log_file.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "headrace.orchestrator.supervisor", str(config.component_logs)],
            cwd=config.airflow_home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    save_launch(config, proc.pid)
    api = AirflowApi(config.url)
    deadline = time.monotonic() + timeout_s
    while not api.is_healthy():
        if proc.poll() is not None:
            raise LaunchError(
                f"Airflow stopped during start-up (code {proc.returncode}); {config.log_file} ends with:\n"
                + _tail(config.log_file)
            )
        if time.monotonic() > deadline:
            stop(config)
            raise LaunchError(
                f"Airflow was not healthy after {timeout_s:.0f} s and was stopped; see {config.log_file}:\n"
                + _tail(config.log_file)
            )
        time.sleep(1)
    return proc.pid


def wait_for_dags(
    api: AirflowApi, expected: set[str], timeout_s: float, on_wait: Callable[[], None] | None = None
) -> None:
    """Return once Airflow lists every DAG in ``expected`` (the DAG processor parsed them)."""
    deadline = time.monotonic() + timeout_s
    while True:
        missing = expected - api.dag_ids()
        if not missing:
            return
        if time.monotonic() > deadline:
            raise LaunchError(
                f"Airflow is up but has not loaded {', '.join(sorted(missing))} after {timeout_s:.0f} s: "
                "look for import errors in the UI (Dags > import errors) or the dag-processor lines of standalone.log"
            )
        if on_wait:
            on_wait()
        time.sleep(2)


def stop(config: LocalAirflow, timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """Stop Airflow; False if nothing ran.

    SIGTERM goes to the supervisor, which stops each component the way Airflow expects (a
    second signal makes the scheduler abandon its LocalExecutor workers, and a signal to
    the workers themselves is ignored). Whatever is still in the process group after
    ``timeout_s`` is killed.
    """
    launch = read_launch(config)
    if not launch:
        return False
    pgid = int(launch["pid"])
    members = _group_members(pgid)
    if members:
        if pgid in members:
            _signal_one(pgid, signal.SIGTERM)
        else:  # the supervisor is gone: stop its orphans directly
            _signal(pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.5)
        if _group_members(pgid):
            _signal(pgid, signal.SIGKILL)
    config.launch_file.unlink(missing_ok=True)
    return bool(members)


def _signal_one(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _signal(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
