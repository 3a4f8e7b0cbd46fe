"""The worker VM's SSH login, as the bootstrap writes it, against a real OpenSSH server and a
real Docker engine: the Airflow VM's key reaches the Docker engine the way the Docker SDK's
ssh:// transport does (`docker system dial-stdio`), and nothing else: no shell command, no
port forwarding, no login from outside the Airflow VM's network.

The authorized_keys line is written by the bootstrap's own `worker_keys` function (the secret
store stubbed with the public key). sshd runs as root here with its own config, so the login
is root's rather than the headrace user's the VM creates; what is tested is the key's line."""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.emulators import server
from tests.infrastructure.tools import INFRA, run, run_ok

pytestmark = [pytest.mark.infra, pytest.mark.integration]


@dataclass
class Login:
    host: str
    port: int
    key: Path
    home: Path  # HOME with .ssh/config and known_hosts, as the Airflow VM's headrace user has
    authorized_keys: Path


def _authorized_keys(folder: Path, public_key: str, source_cidr: str) -> str:
    """Run the bootstrap's worker_keys function; return the authorized_keys it writes."""
    script = (INFRA / "modules" / "bootstrap" / "files" / "headrace-bootstrap.sh").read_text()
    options = re.search(r"^WORKER_KEY_OPTIONS=.*\n", script, re.M)
    function = re.search(r"^worker_keys\(\) \{\n.*?^\}\n", script, re.S | re.M)
    assert options and function, "headrace-bootstrap.sh has no worker_keys function"
    (folder / ".ssh").mkdir(parents=True, exist_ok=True)
    harness = (
        f"set -euo pipefail\nHEADRACE_HOME={folder}\nAIRFLOW_SOURCE_CIDR={source_cidr}\n"
        "SECRET_WORKER_SSH_PUBLIC=worker-ssh-public-key\nlog() { printf '%s\\n' \"$*\" >&2; }\n"
        f"read_secret() {{ printf '%s\\n' '{public_key}'; }}\nchown() {{ :; }}\n"
        f"{options.group(0)}{function.group(0)}worker_keys\n"
    )
    run_ok(["bash", "-c", harness])
    return (folder / ".ssh" / "authorized_keys").read_text()


def _sshd_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


@pytest.fixture(scope="module")
def login(docker_engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Login]:  # type: ignore[no-untyped-def]
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    work = tmp_path_factory.mktemp("worker-ssh")
    run_ok(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "host_key")])
    run_ok(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "headrace-airflow", "-f", str(work / "id")])
    keys = work / "authorized_keys"
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder

    def command(port: int) -> list[str]:
        (work / "sshd_config").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'host_key'}\nPidFile {work / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {keys}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nMaxSessions 32\n"
            f"SetEnv DOCKER_HOST={docker_engine.host}\n"
        )
        return [sshd, "-D", "-e", "-f", str(work / "sshd_config")]

    sshd_server = server.start("sshd", command, lambda port: lambda: _sshd_answers(port), work)
    try:
        home = work / "home"
        (home / ".ssh").mkdir(parents=True)
        host_key = (work / "host_key.pub").read_text().split()[:2]
        (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{sshd_server.port} {' '.join(host_key)}\n")
        (home / ".ssh" / "config").write_text(f"Host 127.0.0.1\n  IdentityFile {work / 'id'}\n")
        yield Login("127.0.0.1", sshd_server.port, work / "id", home, keys)
    finally:
        sshd_server.stop()


def _authorize(login: Login, source_cidr: str) -> None:
    public_key = (login.key.with_suffix(".pub")).read_text().strip()
    login.authorized_keys.write_text(_authorized_keys(login.home.parent / "worker", public_key, source_cidr))


def test_the_airflow_vm_reaches_the_worker_s_docker_engine_over_ssh(
    login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docker

    _authorize(login, "127.0.0.1/32")
    line = login.authorized_keys.read_text()
    assert line.startswith('from="127.0.0.1/32",restrict,command="docker system dial-stdio" ssh-ed25519 ')
    monkeypatch.setenv("HOME", str(login.home))  # the SDK reads ~/.ssh/config and known_hosts
    client = docker.DockerClient(base_url=f"ssh://root@{login.host}:{login.port}", timeout=30)
    try:
        assert client.ping()
        assert client.version()["ApiVersion"]
    finally:
        client.close()


def test_the_key_runs_nothing_but_docker_and_forwards_nothing(login: Login) -> None:
    import paramiko

    _authorize(login, "127.0.0.1/32")
    ssh = paramiko.SSHClient()
    ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    ssh.connect(login.host, port=login.port, username="root", key_filename=str(login.key), allow_agent=False,
                look_for_keys=False, timeout=10)  # fmt: skip
    try:
        stdin, stdout, _ = ssh.exec_command("id; echo shell-ran", timeout=20)
        stdin.close()
        out = stdout.read().decode(errors="replace")
        assert "shell-ran" not in out and "uid=" not in out, "the key ran a command of its own"
        transport = ssh.get_transport()
        assert transport is not None
        with pytest.raises(paramiko.ChannelException):
            transport.open_channel("direct-tcpip", ("127.0.0.1", login.port), ("127.0.0.1", 0), timeout=10)
    finally:
        ssh.close()


def test_the_key_is_refused_from_outside_the_airflow_vm_s_network(login: Login) -> None:
    _authorize(login, "10.42.1.0/24")  # the Airflow subnet; the test connects from 127.0.0.1
    result = run(
        ["ssh", "-F", "/dev/null", "-i", str(login.key), "-p", str(login.port), "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
         "root@127.0.0.1", "true"],
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 255 and "Permission denied" in result.stderr
