"""``azure_vm``: the install's Azure worker VM, started and deallocated on demand."""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Text
from headrace.workers.vm import CAPABILITIES, VmWorkerSettings
from pydantic import Field


class AzureVmWorkerConfig(VmWorkerSettings):
    """Tasks run in containers on an Azure VM, with the machine's managed identity."""

    type: Literal["azure_vm"]
    subscription_id: Text = Field(description="the subscription of the VM")
    resource_group: Text = Field(description="its resource group")
    vm_name: Text = Field(description="the VM's name")
    management_endpoint: Text | None = Field(
        None, description="an Azure Resource Manager endpoint (default: the public cloud's; a proxy or an emulator)"
    )


plugin = Plugin(
    "worker",
    "azure_vm",
    AzureVmWorkerConfig,
    "headrace.workers.vm.azure.worker:AzureVmWorker",
    CAPABILITIES,
    description="a container on the install's Azure worker VM, started when a task needs it and deallocated after",
    extra="azure",
    requires=("azure.mgmt.compute", "azure.identity", "docker", "paramiko"),
)
