"""The worker VM's SSH login, as the bootstrap sets it up, against a real OpenSSH server and a
real Docker engine: the Airflow VM's key reaches the Docker engine the way the Docker SDK's
ssh:// transport does (`docker system dial-stdio`, the host checked against the known_hosts
the Airflow VM wrote), and nothing else: no shell command, no port forwarding, no login from
outside the Airflow VM's network.

The bootstrap's own functions run here: `worker_host_key` (Airflow VM: makes the worker's host
key, writes known_hosts), `install_host_key` (worker: installs it for sshd) and `worker_keys`
(worker: the authorized_keys line), with the secret store stubbed by a folder. sshd runs as
root with its own config, so the login is root's rather than the headrace user's the VM
creates; what is tested is the key's line and the host key."""

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
    store: Path  # the secret store
    worker: Path  # the worker VM's HEADRACE_HOME


def _bootstrap(vm: Path, store: Path, call: str, **settings: str) -> None:
    """Run one function of headrace-bootstrap.sh in a folder standing in for a VM; the secret
    store is the folder ``store`` (one file a secret); chown and systemctl do nothing."""
    script = (INFRA / "modules" / "bootstrap" / "files" / "headrace-bootstrap.sh").read_text()
    globals_ = "".join(re.findall(r"^(?:WORKER_KEY_OPTIONS|SSH_HOST_KEY_FILE)=.*\n", script, re.M))
    functions = "".join(
        re.search(rf"^{name}\(\) \{{\n.*?^\}}\n", script, re.S | re.M).group(0)  # type: ignore[union-attr]
        for name in ("worker_host_key", "worker_keys", "install_host_key")
    )
    (vm / ".ssh").mkdir(parents=True, exist_ok=True)
    values = {
        "HEADRACE_HOME": str(vm),
        "SECRET_WORKER_SSH_PUBLIC": "worker-ssh-public-key",
        "SECRET_WORKER_SSH_HOST_KEY": "worker-ssh-host-key",
        **settings,
    }
    harness = (
        "set -euo pipefail\n"
        f"{globals_}SSH_HOST_KEY_FILE={vm / 'ssh_host_ed25519_key'}\n"
        + "".join(f"{k}='{v}'\n" for k, v in values.items())
        + "log() { printf '%s\\n' \"$*\" >&2; }\nchown() { :; }\nsystemctl() { :; }\n"
        f'read_secret() {{ cat {store}/"$1"; }}\nwrite_secret() {{ cat >{store}/"$1"; }}\n'
        f"{functions}{call}\n"
    )
    run_ok(["bash", "-c", harness])


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
    run_ok(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "headrace-airflow", "-f", str(work / "id")])
    store, airflow, worker = work / "secrets", work / "airflow", work / "worker"
    store.mkdir()
    (store / "worker-ssh-public-key").write_text((work / "id.pub").read_text())
    port = server.free_port()
    # The Airflow VM makes the worker's host key and knows it; the worker installs it.
    _bootstrap(airflow, store, "worker_host_key", WORKER_HOST=f"[127.0.0.1]:{port}")
    made = (store / "worker-ssh-host-key").read_text()
    _bootstrap(airflow, store, "worker_host_key", WORKER_HOST=f"[127.0.0.1]:{port}")  # a rebuilt Airflow VM
    assert (store / "worker-ssh-host-key").read_text() == made, "the host key is kept, not made again"
    _bootstrap(worker, store, "worker_keys", AIRFLOW_SOURCE_CIDR="127.0.0.1/32")
    keys = worker / ".ssh" / "authorized_keys"
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder

    def command(_: int) -> list[str]:
        (work / "sshd_config").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {worker / 'ssh_host_ed25519_key'}\n"
            f"PidFile {work / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {keys}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nMaxSessions 32\n"
            f"SetEnv DOCKER_HOST={docker_engine.host}\n"
        )
        return [sshd, "-D", "-e", "-f", str(work / "sshd_config")]

    sshd_server = server.start("sshd", command, lambda _: lambda: _sshd_answers(port), work)
    try:
        # The Airflow VM's headrace user: its known_hosts from worker_host_key, its key file.
        (airflow / ".ssh" / "config").write_text(f"Host 127.0.0.1\n  IdentityFile {work / 'id'}\n")
        yield Login("127.0.0.1", port, work / "id", airflow, keys, store, worker)
    finally:
        sshd_server.stop()


def _authorize(login: Login, source_cidr: str) -> None:
    _bootstrap(login.worker, login.store, "worker_keys", AIRFLOW_SOURCE_CIDR=source_cidr)


def test_the_airflow_vm_reaches_the_worker_s_docker_engine_over_ssh(
    login: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docker
    import paramiko

    _authorize(login, "127.0.0.1/32")
    line = login.authorized_keys.read_text()
    assert line.startswith('from="127.0.0.1/32",restrict,command="docker system dial-stdio" ssh-ed25519 ')
    monkeypatch.setenv("HOME", str(login.home))  # the SDK reads ~/.ssh/config and known_hosts
    known_hosts = (login.home / ".ssh" / "known_hosts").read_text()
    assert known_hosts.startswith(f"[127.0.0.1]:{login.port} ssh-ed25519 ")
    client = docker.DockerClient(base_url=f"ssh://root@{login.host}:{login.port}", timeout=30)
    try:
        assert client.ping()
        assert client.version()["ApiVersion"]
    finally:
        client.close()

    # The SDK refuses a worker whose host key is not the one the Airflow VM made.
    other, other_store = login.home.parent / "other", login.home.parent / "other-store"
    other_store.mkdir(exist_ok=True)
    _bootstrap(other, other_store, "worker_host_key", WORKER_HOST=f"[127.0.0.1]:{login.port}")
    (login.home / ".ssh" / "known_hosts").write_text((other / ".ssh" / "known_hosts").read_text())
    try:
        with pytest.raises(paramiko.SSHException):
            docker.DockerClient(base_url=f"ssh://root@{login.host}:{login.port}", timeout=30)
    finally:
        (login.home / ".ssh" / "known_hosts").write_text(known_hosts)


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
