"""VM workers (``aws_vm``, ``gcp_vm``, ``azure_vm``): a container on the install's worker VM.

The worker VM is stopped while no task needs it. A task that runs on it takes a lease
(with an expiry, renewed while it runs), starts the VM if it is stopped, waits until its
Docker engine answers over SSH, runs its container there as the ``docker`` worker would,
and releases its lease; the last lease to go stops the VM (unless ``keep_running``). A
lease of a task that crashed expires; the sweeper DAG (``headrace worker sweep``) stops a VM
that has had no live lease for ``idle_stop_after`` seconds. The cloud SDKs are imported only
when a task starts.
"""

from __future__ import annotations

from headrace.project.base import Text
from headrace.workers.base import WorkerCapabilities
from headrace.workers.docker import ContainerSettings
from pydantic import Field

CAPABILITIES = WorkerCapabilities(runs_images=True, remote=True, starts_machine=True)


class VmWorkerSettings(ContainerSettings):
    """What the three VM workers share: how to reach the VM, and when it stops."""

    host: Text | None = Field(
        None, description="the address the VM's SSH server is reached at (default: its private IP, from the cloud API)"
    )
    ssh_user: Text = Field("headrace", description="the user Docker is reached as over SSH")
    ssh_port: int = Field(22, ge=1, le=65535)
    ssh_key_file: Text = Field(
        "~/.ssh/worker_ed25519",
        description="the private key of the SSH login (the install writes it on the Airflow VM)",
    )
    keep_running: bool = Field(False, description="never stop the VM (tasks still start it when it is stopped)")
    idle_stop_after: int = Field(
        600, ge=0, description="seconds: the sweeper stops a VM that has had no running task for this long"
    )
    lease_ttl: int = Field(
        120,
        ge=10,
        le=3600,
        description="seconds a task's lease on the VM lasts unless renewed (a running task renews it every third of "
        "this): a crashed task stops holding the VM this long after its last renewal",
    )
    start_timeout: int = Field(
        600, ge=5, description="seconds to wait for the VM to start and for its Docker engine to answer over SSH"
    )
