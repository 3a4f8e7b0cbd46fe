"""Helpers of the VM worker tests: an EC2 instance on moto, its state, a worker config, a tiny image.

Also runnable as ``python -m tests.workers.vm_support HOLD <config.json> <ready-file>``: a
separate process (an Airflow task) that holds a lease on the VM with the VM running and its
Docker engine answering, writes ``ready-file``, and gives the lease back when its stdin
closes (or never, when it is killed).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from headrace.workers.vm.aws import AwsVmWorkerConfig
from headrace.workers.vm.aws.worker import AwsVmWorker
from headrace.workers.vm.lease import LeaseBook, vm_folder

from tests.emulators.moto import AWS_ENV

REGION = AWS_ENV["AWS_DEFAULT_REGION"]
TINY_IMAGE = "headrace-test-sh:1"  # /bin/sh (dash) and its two libraries: a ~1 MB image, no registry


def ec2(endpoint: str) -> Any:
    import boto3

    return boto3.client("ec2", region_name=REGION, endpoint_url=endpoint)


_IMAGES: dict[str, str] = {}


def stopped_instance(endpoint: str) -> str:
    """A new EC2 instance on moto, stopped (as the install leaves the worker VM)."""
    client = ec2(endpoint)
    if endpoint not in _IMAGES:  # moto lists hundreds of images: once a session
        _IMAGES[endpoint] = client.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    image = _IMAGES[endpoint]
    instance = client.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.small")["Instances"][0]
    client.stop_instances(InstanceIds=[instance["InstanceId"]])
    return instance["InstanceId"]


def state(endpoint: str, instance_id: str) -> str:
    """The instance's state as EC2 (moto) reports it: running, stopped, ..."""
    found = ec2(endpoint).describe_instances(InstanceIds=[instance_id])
    return found["Reservations"][0]["Instances"][0]["State"]["Name"]


def config(endpoint: str, sshd: Any, instance_id: str, **over: Any) -> AwsVmWorkerConfig:
    values: dict[str, Any] = {
        "type": "aws_vm",
        "instance_id": instance_id,
        "region": REGION,
        "endpoint_url": endpoint,
        "host": "127.0.0.1",
        "ssh_port": sshd.port,
        "ssh_user": sshd.user,
        "ssh_key_file": str(sshd.client_key),
        "lease_ttl": 30,
        "start_timeout": 60,
        "image": TINY_IMAGE,
    }
    return AwsVmWorkerConfig.model_validate({**values, **over})


def book(state_dir: Path, cfg: AwsVmWorkerConfig) -> LeaseBook:
    return LeaseBook(vm_folder(state_dir, f"aws_vm-{cfg.region}-{cfg.instance_id}"))


def starts(state_dir: Path, cfg: AwsVmWorkerConfig) -> int:
    """How often the workers started the VM (its events log)."""
    return sum(1 for event in book(state_dir, cfg).events() if event.startswith("start "))


def tiny_image(docker_host: str) -> str:
    """``TINY_IMAGE`` on the engine, made by ``docker import`` of dash and its libraries from this machine."""
    import docker

    client = docker.DockerClient(base_url=docker_host)
    try:
        if not client.images.list(name=TINY_IMAGE):
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as tar:
                for path in ("/bin/dash", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"):
                    tar.add(os.path.realpath(path), arcname=path.lstrip("/"))
                link = tarfile.TarInfo("bin/sh")
                link.type, link.linkname = tarfile.SYMTYPE, "dash"
                tar.addfile(link)
            client.api.import_image_from_data(buffer.getvalue(), repository=TINY_IMAGE.split(":")[0], tag="1")
    finally:
        client.close()
    return TINY_IMAGE


def hold(cfg: AwsVmWorkerConfig, ready: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start a process that holds a lease on the VM (see the module docstring)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.workers.vm_support", "HOLD", cfg.model_dump_json(), str(ready)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
        cwd=Path(__file__).resolve().parents[2],
    )


def _hold(raw: str, ready: Path) -> None:
    worker = AwsVmWorker(AwsVmWorkerConfig.model_validate(json.loads(raw)))
    with worker.session(Path.cwd(), f"holder {os.getpid()}", print) as connect:
        assert connect is not None
        ready.write_text("ready")
        sys.stdin.read()  # until the test closes stdin


if __name__ == "__main__":
    _hold(sys.argv[2], Path(sys.argv[3]))
