"""Start a server process on a free 127.0.0.1 port, wait until it answers, stop its process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
VENVS = REPO / ".venvs"  # tools with pins of their own (emulators, checkov), made by tests/setup.d


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ready(url: str) -> Callable[[], bool]:
    """Ready when ``url`` answers with any HTTP status."""

    def check() -> bool:
        try:
            urllib.request.urlopen(url, timeout=1).close()
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False
        return True

    return check


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_group(self.proc)


def stop_group(proc: subprocess.Popen[bytes], timeout_s: float = 10) -> None:
    """TERM the process group ``proc`` leads, KILL it after ``timeout_s``; nothing if it ended."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start(
    name: str,
    command: Callable[[int], Sequence[str]],
    ready: Callable[[int], Callable[[], bool]],
    log_dir: Path,
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
    cwd: Path | None = None,
) -> Server:
    """Run ``command(port)`` in its own process group; return once ``ready(port)()`` is true.

    Fails with the tail of the server's log if it exits or does not answer within ``timeout_s``.
    """
    port = free_port()
    log = log_dir / f"{name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            list(command(port)),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    server = Server(name, proc, port, log)
    check = ready(port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        if check():
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not answer within {timeout_s:.0f} s: {log.read_text()[-2000:]}")
