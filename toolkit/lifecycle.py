"""How a task process ends when it is stopped: cleanup first, then a distinct exit status.

``headrace run-task`` calls ``install()``. From then on SIGTERM and SIGINT (a timeout, an
Airflow cancel, Ctrl-C, a stopped ``headrace run``) raise ``Terminated`` in the main
thread, so the task's ``finally`` blocks drop its working schema and role and remove its
temporary files; the process then exits with ``EXIT_TERMINATED``. A watchdog ends the
process after ``KILL_GRACE_S`` if cleanup hangs.

Python runs a signal handler only when the main thread gets back to Python code, and a
long warehouse query may not for a while. So a thread also reads the signal wakeup fd
and calls the ``on_stop`` hooks at once, and again until the process ends, with the
moment of the stop: DuckDB's hook interrupts a statement that started before it (a
statement of the cleanup started later and is left alone); psycopg cancels the server's
query itself when the handler raises.

The parent that started the task (``headrace run``, the Airflow operator) passes its pid
in ``HEADRACE_PARENT_PID``. A watcher thread compares it with ``os.getppid()`` every
``PARENT_POLL_S``: when the parent died (SIGKILL included), the task stops itself the
same way. Polling was chosen over Linux ``PR_SET_PDEATHSIG`` because that fires when the
*thread* that forked the task exits (the executor forks from pool threads, Airflow from
whatever thread runs ``execute``), needs a ``preexec_fn`` (unsafe with threads) and is
Linux-only; a poll costs one system call a quarter second.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Callable

from headrace.workers.base import EXIT_TERMINATED, HOST_ID_ENV, KILL_GRACE_S, PARENT_PID_ENV

PARENT_POLL_S = 0.25
HOOK_REPEAT_S = 0.25


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (a signal, or its parent died).

    A ``KeyboardInterrupt``: it passes ``except Exception`` (so no task records itself as
    failed), and psycopg cancels the running query on the server when it sees one.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_state: dict[str, str | None] = {"reason": None, "raised": None}
_hooks: list[Callable[[float], None]] = []


def on_stop(hook: Callable[[float], None]) -> None:
    """Call ``hook(stopped_at)`` (``time.monotonic()`` of the stop request) from another thread,
    as soon as the process is asked to stop and every ``HOOK_REPEAT_S`` until it ends."""
    _hooks.append(hook)


def raised() -> bool:
    """Whether ``Terminated`` was raised (a driver calling into Python may have swallowed it)."""
    return _state["raised"] is not None


def reason() -> str | None:
    """Why the process is stopping (``None`` while it is not)."""
    return _state["reason"]


def parent_gone() -> bool:
    """True when the process that started this task is no longer its parent (it died)."""
    expected = os.environ.get(PARENT_PID_ENV)
    return bool(expected) and str(os.getppid()) != expected


def _stop(why: str) -> None:
    """First request wins: remember why, start the watchdog, interrupt the main thread."""
    if _state["reason"] is not None:
        return
    _state["reason"] = why
    threading.Thread(target=_watchdog, name="stop-watchdog", daemon=True).start()
    threading.Thread(target=_run_hooks, name="stop-hooks", daemon=True).start()


def _run_hooks() -> None:
    stopped_at = time.monotonic()
    while True:
        for hook in list(_hooks):
            with contextlib.suppress(Exception):  # a closed connection, for example
                hook(stopped_at)
        time.sleep(HOOK_REPEAT_S)


def _read_wakeups(fd: int) -> None:
    while True:
        try:
            data = os.read(fd, 64)
        except BlockingIOError:
            select.select([fd], [], [])
            continue
        for signum in data:
            if signum in (signal.SIGTERM, signal.SIGINT):
                _stop(signal.Signals(signum).name)


def _watchdog() -> None:
    time.sleep(KILL_GRACE_S)
    kill_descendants()
    os._exit(EXIT_TERMINATED)


def _on_signal(signum: int, frame: object) -> None:
    _stop(signal.Signals(signum).name)
    if _state["raised"] is None:  # later signals while cleaning up are ignored: cleanup must finish
        _state["raised"] = "yes"
        raise Terminated(_state["reason"] or "stopped")


def _watch_parent() -> None:
    while not parent_gone():
        time.sleep(PARENT_POLL_S)
    _stop("parent gone")
    # the signal handler runs in the main thread and raises Terminated there
    with contextlib.suppress(ProcessLookupError):
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)


def install() -> None:
    """Handle SIGTERM/SIGINT and watch the parent (call once, from the main thread)."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    threading.Thread(target=_read_wakeups, args=(read_fd,), name="signal-wakeups", daemon=True).start()
    if os.environ.get(PARENT_PID_ENV):
        threading.Thread(target=_watch_parent, name="parent-watch", daemon=True).start()


def kill_descendants() -> None:
    """TERM, then KILL, every process this one started (extractor subprocesses, for example)."""
    import psutil

    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=2)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()


def exit_terminated() -> None:
    """End the process now with ``EXIT_TERMINATED`` (cleanup has run; threads are not waited for)."""
    import sys

    kill_descendants()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(EXIT_TERMINATED)


def host_id() -> str:
    """The name of the pid namespace this process lives in: the host name, or what the worker set.

    Tasks in containers on the host network share the host's name but each has its own pids,
    so the ``docker`` worker gives each container its own ``HEADRACE_HOST_ID``: a pid is then
    only ever judged where it means something.
    """
    import socket

    return os.environ.get(HOST_ID_ENV) or socket.gethostname()


def owner_token() -> str:
    """``host:pid:start``: names this process in registrations, so a sweep can tell it is gone."""
    import psutil

    return f"{host_id()}:{os.getpid()}:{int(psutil.Process().create_time())}"


def owner_dead(token: str) -> bool:
    """True when ``token`` names a process of this host that no longer runs (False when unsure)."""
    import psutil

    parts = token.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit() or parts[0] != host_id():
        return False
    try:
        return int(psutil.Process(int(parts[1])).create_time()) != int(parts[2])
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False
