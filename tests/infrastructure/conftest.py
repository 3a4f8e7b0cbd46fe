"""Fixtures of the infrastructure tests: a Terraform environment against the session's moto server."""

from __future__ import annotations

import sys

import pytest

from tests.infrastructure.tools import VENVS, terraform_env


@pytest.fixture(scope="session")
def aws_env(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform, the AWS CLI and boto3 against the moto server only."""
    env = terraform_env(tmp_path_factory.mktemp("tf"))
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_EC2_METADATA_DISABLED="true",
        HEADRACE_PYTHON=sys.executable,  # builds the wheel (the awscli venv on PATH has no pip)
        HEADRACE_WHEEL_BUILDER="uv",  # ~7 s where pip's isolated build takes ~30 s here
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
