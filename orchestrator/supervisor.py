"""Run a local Airflow 3: migrate the metadata DB, then scheduler, DAG processor, triggerer and API server.

What ``airflow standalone`` does, with three differences that matter here: the scheduler
and triggerer start with ``--skip-serve-logs`` (their log servers would listen on every
interface; with the LocalExecutor the API server reads task logs from disk), so the API
server on 127.0.0.1 is the only listening socket; the scheduler starts only once the API
server answers (tasks report to its execution API: started earlier, the first tasks fail
with "connection refused") and the project's Airflow pools exist (``headrace.orchestrator.pools``:
a task in a missing pool would wait for ever); and each component logs to its own file.

``headrace airflow up`` starts this module as the leader of a new process group. If any
component exits, all are stopped: a half-running Airflow is worse than none.

    python -m headrace.orchestrator.supervisor LOG_FOLDER
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

# Started together: neither needs the other. The DAG processor parses while the API server starts.
FIRST: dict[str, list[str]] = {"api-server": ["api-server"], "dag-processor": ["dag-processor"]}
# Started once the API server answers: their tasks and triggers report to its execution API.
THEN: dict[str, list[str]] = {
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
STOP_GRACE_S = 30.0
API_START_TIMEOUT_S = 180.0


def say(message: str) -> None:
    print(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} supervisor | {message}", flush=True)


def _airflow(args: list[str], log_folder: Path, name: str) -> subprocess.Popen:
    handle = (log_folder / f"{name}.log").open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "airflow", *args], stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT
        )
    finally:
        handle.close()


def _stop_all(procs: dict[str, subprocess.Popen]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for name, proc in procs.items():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {STOP_GRACE_S:.0f} s: killing it")
            proc.kill()
            proc.wait()


def _api_answers(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except OSError:
        return False


def _wait_for_api(procs: dict[str, subprocess.Popen], log_folder: Path, stopping: threading.Event) -> bool:
    """True once the API server answers; False if a component died, it timed out or we were stopped."""
    port = os.environ.get("AIRFLOW__API__PORT", "8080")
    deadline = time.monotonic() + API_START_TIMEOUT_S
    while not _api_answers(port):
        dead = [name for name, p in procs.items() if p.poll() is not None]
        if dead or time.monotonic() > deadline:
            for name in dead or ["api-server"]:
                say(f"{name} did not start (API port {port}): see {log_folder / (name + '.log')}")
            return False
        if stopping.wait(0.5):
            return False
    return True


def _sync_pools() -> bool:
    """The deployed project's Airflow pools, before the scheduler can queue a task into a missing one."""
    from headrace.errors import HeadraceError
    from headrace.orchestrator.pools import sync_from_environment

    try:
        sync_from_environment(os.environ, log=say)
    except (HeadraceError, LookupError, OSError) as exc:
        say(f"could not make Airflow's pools: {exc}")
        return False
    return True


def run(log_folder: Path) -> int:
    log_folder.mkdir(parents=True, exist_ok=True)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    say(f"migrating the metadata database (log: {log_folder / 'db-migrate.log'})")
    migrate = _airflow(["db", "migrate"], log_folder, "db-migrate")
    while migrate.poll() is None:
        if stopping.wait(0.2):
            migrate.terminate()
            migrate.wait()
            return 0
    if migrate.returncode != 0:
        say(f"airflow db migrate failed with code {migrate.returncode}: see {log_folder / 'db-migrate.log'}")
        return 1
    procs = {name: _airflow(args, log_folder, name) for name, args in FIRST.items()}
    if not _wait_for_api(procs, log_folder, stopping):
        _stop_all(procs)
        return 0 if stopping.is_set() else 1
    if not _sync_pools():
        _stop_all(procs)
        return 1
    procs.update({name: _airflow(args, log_folder, name) for name, args in THEN.items()})
    say("started " + ", ".join(f"{name} (pid {p.pid})" for name, p in procs.items()))
    code = 0
    while not stopping.wait(0.5):
        dead = {name: p.returncode for name, p in procs.items() if p.poll() is not None}
        if dead:
            for name, returncode in dead.items():
                say(f"{name} exited with code {returncode}: see {log_folder / (name + '.log')}")
            say("stopping the other components")
            code = 1
            break
    _stop_all(procs)
    say("stopped")
    return code


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
