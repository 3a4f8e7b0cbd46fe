"""Fixtures of the infrastructure tests: a moto server and a Terraform environment."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.infrastructure.tools import REPO, VENVS, free_port, terraform_env

MOTO_SERVER = REPO / ".venv" / "bin" / "moto_server"


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real moto server on 127.0.0.1 (own process group, stopped with it)."""
    if not MOTO_SERVER.exists():
        pytest.fail(f"{MOTO_SERVER} is missing: run tests/setup.d/50-infra.sh (./install.sh test does)")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"moto_server exited: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        else:
            pytest.fail("moto_server did not answer within 30 s")
        yield endpoint
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def aws_env(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform, the AWS CLI and boto3 against the moto server only."""
    env = terraform_env(tmp_path_factory.mktemp("tf"))
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_EC2_METADATA_DISABLED="true",
        PATH=f"{VENVS / 'awscli' / 'bin'}:{env['PATH']}",
    )
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(leak, None)
    return env


@pytest.fixture(scope="session")
def moto_ami(moto_endpoint: str, aws_env: dict[str, str]) -> str:
    """An Ubuntu AMI that moto knows (it has no Canonical SSM parameters)."""
    import boto3

    ec2 = boto3.client(
        "ec2",
        endpoint_url=moto_endpoint,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    images = ec2.describe_images(Filters=[{"Name": "name", "Values": ["ubuntu/images/*"]}])["Images"]
    assert images, "moto lists no Ubuntu image"
    return str(sorted(images, key=lambda i: i["Name"])[-1]["ImageId"])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Run the long moto apply last so quick failures show first.
    items.sort(key=lambda item: "test_aws_moto" in item.nodeid)
