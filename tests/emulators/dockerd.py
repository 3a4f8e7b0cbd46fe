"""A Docker engine for the tests: Debian's ``dockerd`` on a private unix socket (tests/setup.d/60-docker.sh).

No bridge network and no iptables rules (containers use ``--network host`` to reach
127.0.0.1 services). The data root is kept under ``.venvs/`` so images built by one test
session (the worker image) are reused by the next; the exec root (sockets, netns) is a short
private folder under /tmp, removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.emulators import server

DATA_ROOT = server.VENVS / "docker-data"


@dataclass
class Engine:
    proc: subprocess.Popen[bytes]
    exec_root: Path
    log: Path

    @property
    def host(self) -> str:
        """The engine's address for the Docker SDK (``docker.DockerClient(base_url=...)``) and ``DOCKER_HOST``."""
        return f"unix://{self.exec_root}/docker.sock"

    @property
    def endpoint(self) -> str:
        return self.host

    def stop(self) -> None:
        server.stop_group(self.proc, timeout_s=30)
        _kill_left_over(str(self.exec_root))  # containerd runs in a session of its own
        netns = self.exec_root / "netns" / "default"
        if os.path.ismount(netns):
            subprocess.run(["umount", str(netns)], check=False, capture_output=True)
        shutil.rmtree(self.exec_root, ignore_errors=True)


def _kill_left_over(exec_root: str) -> None:
    """Kill containerd and shims of this engine that outlived it (dockerd was killed, not stopped)."""
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        if any(exec_root in part for part in proc.info["cmdline"] or []):
            with contextlib.suppress(psutil.Error):
                proc.kill()


def _answers(sock: Path) -> bool:
    import docker

    if not sock.exists():
        return False
    try:
        client = docker.DockerClient(base_url=f"unix://{sock}", timeout=5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def start(log_dir: Path, timeout_s: float = 60) -> Engine:
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if not Path(dockerd).exists():
        raise RuntimeError("dockerd is missing: run tests/setup.d/60-docker.sh (./install.sh test does)")
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    exec_root = Path(tempfile.mkdtemp(prefix="hr-dk-", dir="/tmp"))
    sock = exec_root / "docker.sock"
    log = log_dir / "dockerd.log"
    command = [
        dockerd,
        "--data-root", str(DATA_ROOT),
        "--exec-root", str(exec_root),
        "--pidfile", str(exec_root / "dockerd.pid"),
        "-H", f"unix://{sock}",
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    engine = Engine(proc, exec_root, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if _answers(sock):
            return engine
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    with contextlib.suppress(Exception):
        engine.stop()
    raise RuntimeError(f"dockerd did not start within {timeout_s} s (data root {DATA_ROOT}):\n{tail}")
