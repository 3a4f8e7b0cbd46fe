"""The ``docker`` worker: a task in a container, on a local or remote Docker engine.

A task of the manifest runs ``headrace run-task`` in the Headrace worker image (this
version of Headrace with its extractors, ``headrace worker build-image``); a component of
``type: container`` runs its own image under the contract of ``docs/components.md``. The
Docker SDK is imported only when a task starts (``headrace.workers.docker.worker``).
"""

from __future__ import annotations

from typing import Literal

from headrace import __version__
from headrace.plugins import Plugin
from headrace.project.base import Strict, Text
from headrace.workers.base import WorkerCapabilities
from pydantic import Field

WORKER_IMAGE = f"headrace-worker:{__version__}"  # what ``headrace worker build-image`` tags
CAPABILITIES = WorkerCapabilities(runs_images=True)
# on every container Headrace starts: what a sweep needs to find one a killed task left behind
LABEL_TASK, LABEL_RUN, LABEL_OWNER, LABEL_EXPIRES = (
    "headrace.task",
    "headrace.run_id",
    "headrace.owner",  # lifecycle.owner_token() of the process that started it
    "headrace.expires",  # epoch seconds: its start + timeout + grace
)


class ContainerSettings(Strict):
    """How containers start, for the ``docker`` worker and the VM workers alike."""

    image: Text | None = Field(
        None, description=f"the image tasks run in (default: {WORKER_IMAGE}, built by `headrace worker build-image`)"
    )
    network: Text = Field(
        "host", description="the containers' network: host (default) reaches what the machine running them reaches"
    )
    memory: Text | None = Field(None, description="memory limit of a container, e.g. 4g (default: none)")
    cpus: float | None = Field(None, gt=0, description="CPU limit of a container, e.g. 1.5 (default: none)")


class DockerWorkerConfig(ContainerSettings):
    """Tasks run in containers on a Docker engine (this machine's by default)."""

    type: Literal["docker"]
    docker_host: Text | None = Field(
        None,
        description="the engine: unix:///var/run/docker.sock, ssh://user@host or tcp://host:2376 "
        "(default: DOCKER_HOST, else the local socket)",
    )


plugin = Plugin(
    "worker",
    "docker",
    DockerWorkerConfig,
    "headrace.workers.docker.worker:DockerWorker",
    CAPABILITIES,
    description="a container on a Docker engine (this machine's by default)",
    extra="docker",
    requires=("docker",),
)
