"""An OpenSSH server for the tests: the worker VM's "Docker over SSH", on 127.0.0.1.

Debian's ``sshd`` (openssh-server, tests/setup.d) runs in the foreground (``-D -e``) with a
config, host key and authorized key made here with ``ssh-keygen``; it logs in the user
running the tests with the client key only. ``SetEnv DOCKER_HOST=<engine>`` points the
session's ``docker system dial-stdio`` (what the Docker SDK runs over SSH) at the test's
own dockerd, so the "VM" is this machine reached through a real SSH login.
"""

from __future__ import annotations

import getpass
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.emulators import server

SSHD = Path("/usr/sbin/sshd")


@dataclass
class Sshd:
    server: server.Server
    client_key: Path  # the private key a worker logs in with (worker.ssh_key_file)
    user: str

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self) -> None:
        self.server.stop()


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def _banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def start(log_dir: Path, docker_host: str) -> Sshd:
    if not SSHD.exists():
        raise RuntimeError(f"{SSHD} is missing: install openssh-server (tests/setup.d)")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    _keygen(log_dir / "host_key")
    _keygen(log_dir / "client_key")
    (log_dir / "authorized_keys").write_text((log_dir / "client_key.pub").read_text())
    config = log_dir / "sshd_config"

    def command(port: int) -> list[str]:
        config.write_text(
            f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {log_dir / 'host_key'}\n"
            f"AuthorizedKeysFile {log_dir / 'authorized_keys'}\nPidFile none\nStrictModes no\nUsePAM no\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
            f"SetEnv DOCKER_HOST={docker_host}\nLogLevel VERBOSE\n"
        )
        return [str(SSHD), "-D", "-e", "-f", str(config)]

    srv = server.start("sshd", command, lambda port: lambda: _banner(port), log_dir)
    return Sshd(srv, log_dir / "client_key", getpass.getuser())
