"""``gcp_vm``: the install's Compute Engine worker instance, started and stopped on demand."""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Text
from headrace.workers.vm import CAPABILITIES, VmWorkerSettings
from pydantic import Field


class GcpVmWorkerConfig(VmWorkerSettings):
    """Tasks run in containers on a Compute Engine instance, with the machine's service account."""

    type: Literal["gcp_vm"]
    project: Text = Field(description="the Google Cloud project of the instance")
    zone: Text = Field(description="its zone, e.g. europe-west1-b")
    instance: Text = Field(description="the instance's name")
    api_endpoint: Text | None = Field(None, description="a Compute Engine API endpoint (an emulator or a proxy)")


plugin = Plugin(
    "worker",
    "gcp_vm",
    GcpVmWorkerConfig,
    "headrace.workers.vm.gcp.worker:GcpVmWorker",
    CAPABILITIES,
    description="a container on the install's Compute Engine worker instance, started when a task needs it",
    extra="gcp",
    requires=("google.cloud.compute_v1", "docker", "paramiko"),
)
