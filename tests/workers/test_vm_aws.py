"""The AWS VM worker against moto's EC2, with the VM's "Docker over SSH" on a local OpenSSH server.

The instance is a real (emulated) EC2 instance: its state is read back from moto. The
"VM" reached over SSH is this machine: sshd (tests/emulators/sshd.py) logs the worker in
with its key file, and the session's ``docker system dial-stdio`` reaches the test's
dockerd. Leases live in the test's state directory, shared by threads and processes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from headrace.project.compile import compile_project
from headrace.workers.base import WorkSpec
from headrace.workers.vm.aws.worker import AwsVmWorker

from tests.emulators.moto import AWS_ENV
from tests.workers import vm_support as vm

pytestmark = [pytest.mark.workers, pytest.mark.integration]


@pytest.fixture(scope="module", autouse=True)
def aws_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in AWS_ENV.items():
            mp.setenv(name, value)
        yield


@pytest.fixture
def instance(moto_endpoint: str) -> str:
    return vm.stopped_instance(moto_endpoint)


def _lines() -> tuple[list[str], Any]:
    lines: list[str] = []
    return lines, lines.append


def test_containers_run_on_the_vm_which_is_stopped_after_success_and_after_failure(
    moto_endpoint: str, sshd_server: Any, docker_engine: Any, state_env: Path, instance: str
) -> None:
    cfg = vm.config(moto_endpoint, sshd_server, instance, image=vm.tiny_image(docker_engine.host))
    lines, say = _lines()
    outcome = AwsVmWorker(cfg).run(WorkSpec(["sh", "-c", "echo hello from the VM"], image=vm.TINY_IMAGE), say)
    assert (outcome.returncode, outcome.task_result("extractor:x", None).status) == (0, "success")
    assert lines[0] == f"starting the worker VM, EC2 instance {instance} ({vm.REGION})"
    assert "hello from the VM" in lines
    assert lines[-1] == f"stopped the worker VM, EC2 instance {instance} ({vm.REGION}): no task needs it"
    assert vm.state(moto_endpoint, instance) == "stopped"
    failing = WorkSpec(["sh", "-c", "echo the source refused us; exit 3"], image=vm.TINY_IMAGE)
    outcome = AwsVmWorker(cfg).run(failing, lambda line: None)
    result = outcome.task_result("extractor:x", None)
    assert (outcome.returncode, result.status, result.error) == (3, "failed", "the source refused us")
    assert vm.state(moto_endpoint, instance) == "stopped"
    assert vm.starts(state_env, cfg) == 2


def test_a_task_cancelled_while_its_container_runs_leaves_the_vm_stopped(
    moto_endpoint: str, sshd_server: Any, docker_engine: Any, state_env: Path, instance: str
) -> None:
    cfg = vm.config(moto_endpoint, sshd_server, instance, image=vm.tiny_image(docker_engine.host))
    worker, started, result = AwsVmWorker(cfg), threading.Event(), []
    busy = WorkSpec(["sh", "-c", "echo started; while :; do :; done"], image=vm.TINY_IMAGE)  # no sleep in the image

    def run() -> None:
        result.append(worker.run(busy, lambda line: started.set() if line == "started" else None))

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(120)
    worker.cancel()
    thread.join(120)
    (outcome,) = result
    assert outcome.task_result("extractor:x", None).status == "cancelled"
    assert vm.state(moto_endpoint, instance) == "stopped"


def test_threads_share_the_vm_it_starts_once_and_stops_after_the_last(
    moto_endpoint: str, sshd_server: Any, state_env: Path, instance: str
) -> None:
    cfg = vm.config(moto_endpoint, sshd_server, instance)
    inside = threading.Barrier(3)
    leave_first, left_first = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def task(name: str, first: bool) -> None:
        try:
            with AwsVmWorker(cfg).session(Path.cwd(), name, lambda line: None) as connect:
                assert connect is not None
                client = connect()
                assert client.ping()
                client.close()
                inside.wait(60)
                if first:
                    leave_first.wait(60)
                else:
                    left_first.wait(60)
            if first:
                left_first.set()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            inside.abort()

    threads = [threading.Thread(target=task, args=(f"task{i}", i == 0)) for i in range(2)]
    for thread in threads:
        thread.start()
    inside.wait(120)
    assert vm.state(moto_endpoint, instance) == "running"
    leave_first.set()
    left_first.wait(60)
    assert vm.state(moto_endpoint, instance) == "running"  # the other task still holds it
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert vm.state(moto_endpoint, instance) == "stopped"
    assert vm.starts(state_env, cfg) == 1
    assert vm.book(state_env, cfg).leases() == []


def test_processes_share_the_vm_and_the_last_one_stops_it(
    moto_endpoint: str, sshd_server: Any, state_env: Path, instance: str, tmp_path: Path
) -> None:
    cfg = vm.config(moto_endpoint, sshd_server, instance)
    env = {"HEADRACE_STATE_DIR": str(state_env), **AWS_ENV}
    holders = [vm.hold(cfg, tmp_path / f"ready{i}", env) for i in range(3)]
    try:
        _wait_ready(holders, [tmp_path / f"ready{i}" for i in range(3)])
        assert vm.state(moto_endpoint, instance) == "running"
        assert vm.starts(state_env, cfg) == 1
        assert len(vm.book(state_env, cfg).leases()) == 3
        for holder in holders[:2]:
            _release(holder)
            assert vm.state(moto_endpoint, instance) == "running"
        _release(holders[2])
        assert vm.state(moto_endpoint, instance) == "stopped"
        assert vm.book(state_env, cfg).leases() == []
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()


def test_a_killed_task_holds_the_vm_until_its_lease_expires_then_the_sweep_stops_it(
    moto_endpoint: str, sshd_server: Any, state_env: Path, instance: str, tmp_path: Path
) -> None:
    cfg = vm.config(moto_endpoint, sshd_server, instance, lease_ttl=10, idle_stop_after=0)
    project = _project(tmp_path / "project", cfg)
    holder = vm.hold(cfg, tmp_path / "ready", {"HEADRACE_STATE_DIR": str(state_env), **AWS_ENV})
    try:
        _wait_ready([holder], [tmp_path / "ready"])
        (taken,) = vm.book(state_env, cfg).leases()
        while vm.book(state_env, cfg).leases()[0].expires == taken.expires:
            time.sleep(0.2)  # a live task renews its lease (every third of lease_ttl)
    finally:
        os.kill(holder.pid, signal.SIGKILL)  # no chance to give its lease back
        holder.wait()
    (lease,) = vm.book(state_env, cfg).leases()
    assert _sweep(project) == []  # its lease has not expired yet: the VM is still needed
    assert vm.state(moto_endpoint, instance) == "running"
    while time.time() <= lease.expires:  # nobody renews it any more
        time.sleep(0.5)
    actions = _sweep(project)
    assert actions[0].startswith(f"dropped the expired lease of holder {holder.pid}")
    assert actions[1].startswith(f"stopped EC2 instance {instance}")
    assert vm.state(moto_endpoint, instance) == "stopped"


def test_the_sweep_stops_an_idle_vm_after_idle_stop_after_and_never_with_keep_running(
    moto_endpoint: str, sshd_server: Any, state_env: Path, instance: str, tmp_path: Path
) -> None:
    vm.ec2(moto_endpoint).start_instances(InstanceIds=[instance])  # started by hand: no lease
    kept = _project(tmp_path / "project", vm.config(moto_endpoint, sshd_server, instance, keep_running=True))
    assert _sweep(kept) == []
    _project(kept, vm.config(moto_endpoint, sshd_server, instance, idle_stop_after=3600))
    assert _sweep(kept) == []  # idle since this sweep: not for an hour yet
    assert vm.state(moto_endpoint, instance) == "running"
    _project(kept, vm.config(moto_endpoint, sshd_server, instance, idle_stop_after=0))
    (stopped,) = _sweep(kept)
    assert stopped.startswith(f"stopped EC2 instance {instance} ({vm.REGION}): no task for ")
    assert stopped.endswith(" s (worker.idle_stop_after: 0)")
    assert vm.state(moto_endpoint, instance) == "stopped"


def test_the_sweep_removes_containers_of_dead_or_expired_tasks_on_the_running_vm(
    moto_endpoint: str, sshd_server: Any, docker_engine: Any, state_env: Path, instance: str, tmp_path: Path
) -> None:
    import docker
    from headrace.lifecycle import owner_token

    vm.ec2(moto_endpoint).start_instances(InstanceIds=[instance])
    project = _project(tmp_path / "project", vm.config(moto_endpoint, sshd_server, instance, keep_running=True))
    dead = f"{socket.gethostname()}:{_ended_pid()}:1"
    alive, later, past = owner_token(), str(int(time.time()) + 3600), str(int(time.time()) - 1)
    client = docker.DockerClient(base_url=docker_engine.host)
    made = {}
    for name, owner, expires in (("orphan", dead, later), ("expired", alive, past), ("running", alive, later)):
        labels = {"headrace.owner": owner, "headrace.expires": expires, "headrace.task": f"extractor:{name}"}
        made[name] = client.containers.create(
            vm.tiny_image(docker_engine.host), ["sh"], name=f"hr-vm-{name}", labels=labels
        )
    try:
        actions = _sweep(project)
        assert sorted(actions) == [
            f"removed container hr-vm-expired of extractor:expired on EC2 instance {instance} ({vm.REGION}): "
            f"it expired at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(int(past)))}",
            f"removed container hr-vm-orphan of extractor:orphan on EC2 instance {instance} ({vm.REGION}): "
            f"its owner {dead} is gone",
        ]
        assert [c.name for c in client.containers.list(all=True, filters={"label": "headrace.owner"})] == [
            "hr-vm-running"
        ]
        assert vm.state(moto_endpoint, instance) == "running"  # keep_running
    finally:
        made["running"].remove(force=True)
        client.close()


def test_the_sweep_removes_leftover_containers_on_the_docker_workers_engine(
    docker_engine: Any, state_env: Path, tmp_path: Path
) -> None:
    import docker

    project = tmp_path / "project"
    project.mkdir()
    (project / "project.yaml").write_text("name: local\n")
    assert _sweep(project) == []  # the local worker leaves nothing
    (project / "project.yaml").write_text(f"name: dk\nworker: {{type: docker, docker_host: '{docker_engine.host}'}}\n")
    compile_project(project)
    client = docker.DockerClient(base_url=docker_engine.host)
    dead = f"{socket.gethostname()}:{_ended_pid()}:1"
    labels = {"headrace.owner": dead, "headrace.expires": str(int(time.time()) + 3600), "headrace.task": "extractor:a"}
    client.containers.create(vm.tiny_image(docker_engine.host), ["sh"], name="hr-dk-orphan", labels=labels)
    try:
        assert _sweep(project) == [
            f"removed container hr-dk-orphan of extractor:a on the Docker engine {docker_engine.host}: "
            f"its owner {dead} is gone"
        ]
        assert client.containers.list(all=True, filters={"name": "hr-dk-orphan"}) == []
    finally:
        for left in client.containers.list(all=True, filters={"name": "hr-dk-orphan"}):
            left.remove(force=True)
        client.close()


def test_ssh_that_never_answers_is_a_clear_error_and_the_vm_is_left_stopped(
    moto_endpoint: str, sshd_server: Any, state_env: Path, instance: str
) -> None:
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        cfg = vm.config(moto_endpoint, sshd_server, instance, ssh_port=silent.getsockname()[1], start_timeout=5)
        lines, say = _lines()
        outcome = AwsVmWorker(cfg).run(WorkSpec(["true"], image=vm.TINY_IMAGE), say)
    assert outcome.returncode == 75  # transient: retried
    error = outcome.task_result("extractor:x", None).error or ""
    assert "did not answer over SSH at" in error and "worker.start_timeout" in error
    assert any(line.startswith(f"stopped the worker VM, EC2 instance {instance}") for line in lines)
    assert vm.state(moto_endpoint, instance) == "stopped"


def test_a_vm_that_cannot_start_is_a_clear_error(
    moto_endpoint: str, sshd_server: Any, state_env: Path, instance: str
) -> None:
    vm.ec2(moto_endpoint).terminate_instances(InstanceIds=[instance])
    outcome = AwsVmWorker(vm.config(moto_endpoint, sshd_server, instance)).run(WorkSpec(["true"]), lambda line: None)
    assert outcome.returncode == 2  # a configuration error: no retry
    assert f"EC2 instance {instance} ({vm.REGION}), does not exist any more" in outcome.last_lines[0]
    missing = vm.config(moto_endpoint, sshd_server, "i-0123456789abcdef0")
    outcome = AwsVmWorker(missing).run(WorkSpec(["true"]), lambda line: None)
    assert outcome.returncode == 2
    assert "InvalidInstanceID.NotFound" in outcome.last_lines[0] and "worker.instance_id" in outcome.last_lines[0]
    assert vm.state(moto_endpoint, instance) == "terminated"
    assert vm.book(state_env, missing).leases() == []


def test_a_task_cancelled_while_the_vm_starts_leaves_it_stopped(
    moto_endpoint: str, sshd_server: Any, state_env: Path, instance: str
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there: SSH is refused until the cancel
    cfg = vm.config(moto_endpoint, sshd_server, instance, ssh_port=port)
    worker = AwsVmWorker(cfg)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(worker.run(WorkSpec(["true"]), lambda line: None)))
    thread.start()
    while vm.starts(state_env, cfg) == 0:
        time.sleep(0.1)
    worker.cancel()
    thread.join(60)
    (outcome,) = result
    assert outcome.cancelled
    assert outcome.task_result("extractor:x", None).status == "cancelled"
    assert vm.state(moto_endpoint, instance) == "stopped"


def test_a_missing_key_file_is_a_configuration_error_before_the_vm_starts(
    moto_endpoint: str, sshd_server: Any, state_env: Path, instance: str, tmp_path: Path
) -> None:
    cfg = vm.config(moto_endpoint, sshd_server, instance, ssh_key_file=str(tmp_path / "nokey"))
    outcome = AwsVmWorker(cfg).run(WorkSpec(["true"]), lambda line: None)
    assert outcome.returncode == 2
    assert f"worker.ssh_key_file: {tmp_path / 'nokey'} does not exist" in outcome.last_lines[0]
    assert vm.state(moto_endpoint, instance) == "stopped"
    assert vm.starts(state_env, cfg) == 0


def test_a_changed_ssh_host_key_is_refused_and_the_vm_is_left_stopped(
    moto_endpoint: str, sshd_server: Any, state_env: Path, instance: str, tmp_path: Path
) -> None:
    cfg = vm.config(moto_endpoint, sshd_server, instance)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    known = vm.book(state_env, cfg).folder / "known_hosts"  # as if an earlier task had met another machine there
    known.parent.mkdir(parents=True)
    other = (tmp_path / "other.pub").read_text().split()[:2]
    known.write_text(f"[127.0.0.1]:{sshd_server.port} {' '.join(other)}\n")
    outcome = AwsVmWorker(cfg).run(WorkSpec(["true"]), lambda line: None)
    assert outcome.returncode == 2
    assert outcome.last_lines[0].startswith("the SSH host key of headrace@127.0.0.1:".replace("headrace", cfg.ssh_user))
    assert "remove its line from the known_hosts file" in outcome.last_lines[0]
    assert vm.state(moto_endpoint, instance) == "stopped"


def _ended_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _project(root: Path, cfg: Any) -> Path:
    """A project whose worker is ``cfg`` (network storage and a server warehouse, as a VM worker needs)."""
    root.mkdir(exist_ok=True)
    worker = {k: v for k, v in cfg.model_dump(mode="json").items() if v is not None}
    project = {
        "name": "vm",
        "warehouse": {"type": "postgres", "host": "db", "database": "dw", "user": "hr"},
        "storage": {"type": "s3", "bucket": "raw"},
        "worker": worker,
    }
    (root / "project.yaml").write_text(json.dumps(project))
    compile_project(root)  # as project_update does: the sweep reads the compiled manifest
    return root


def _sweep(project: Path) -> list[str]:
    from headrace.cli import _register, cli

    _register()
    result = CliRunner().invoke(cli, ["worker", "sweep", "--project", str(project)])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def _wait_ready(holders: list[Any], ready: list[Path]) -> None:
    while not all(path.exists() for path in ready):
        for holder in holders:
            if holder.poll() is not None:
                pytest.fail(f"a lease holder exited with {holder.returncode}: {holder.stdout.read()}")
        time.sleep(0.1)


def _release(holder: Any) -> None:
    holder.stdin.close()
    assert holder.wait(60) == 0, holder.stdout.read()
