"""``aws_vm``: the install's EC2 worker instance (boto3), started and stopped on demand."""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Text
from headrace.workers.vm import CAPABILITIES, VmWorkerSettings
from pydantic import Field


class AwsVmWorkerConfig(VmWorkerSettings):
    """Tasks run in containers on an EC2 instance, with the machine's AWS identity."""

    type: Literal["aws_vm"]
    instance_id: Text = Field(description="the worker instance, e.g. i-0123456789abcdef0")
    region: Text | None = Field(None, description="its region (default: the SDK's, e.g. AWS_DEFAULT_REGION)")
    endpoint_url: Text | None = Field(None, description="an EC2-compatible endpoint (an emulator)")


plugin = Plugin(
    "worker",
    "aws_vm",
    AwsVmWorkerConfig,
    "headrace.workers.vm.aws.worker:AwsVmWorker",
    CAPABILITIES,
    description="a container on the install's EC2 worker instance, started when a task needs it",
    extra="aws",
    requires=("boto3", "docker", "paramiko"),
)
