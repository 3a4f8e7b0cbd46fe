"""``gcp_vm``: the worker VM is a Compute Engine instance (google-cloud-compute, REST transport).

Credentials are the machine's (``google.auth.default()``: the Airflow VM's service
account); ``api_endpoint`` points the client at another endpoint (a proxy, a test server).
"""

from __future__ import annotations

from typing import Any

from headrace.errors import ConfigError, TransientError
from headrace.workers.vm.gcp import GcpVmWorkerConfig
from headrace.workers.vm.machine import Machine, State
from headrace.workers.vm.worker import VmWorker

# Compute Engine's instance statuses; a SUSPENDED instance is resumed, not started: left to the user
STATES: dict[str, State] = {
    "PROVISIONING": "starting",
    "STAGING": "starting",
    "REPAIRING": "starting",
    "RUNNING": "running",
    "STOPPING": "stopping",
    "SUSPENDING": "stopping",
    "TERMINATED": "stopped",
    "STOPPED": "stopped",
}


class GceInstance(Machine):
    def __init__(self, config: GcpVmWorkerConfig):
        from google.api_core.client_options import ClientOptions
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import compute_v1

        self.where = {"project": config.project, "zone": config.zone, "instance": config.instance}
        self.key = f"gcp_vm-{config.project}-{config.zone}-{config.instance}"
        self.name = f"Compute Engine instance {config.instance} ({config.project}, {config.zone})"
        options = ClientOptions(api_endpoint=config.api_endpoint) if config.api_endpoint else None
        try:
            self.client: Any = compute_v1.InstancesClient(transport="rest", client_options=options)
        except DefaultCredentialsError:
            raise ConfigError(f"{self.name}: no Google credentials (the Airflow VM's service account)") from None

    def _call(self, action: str) -> Any:
        from google.api_core import exceptions

        try:
            return getattr(self.client, action)(**self.where)
        except (exceptions.NotFound, exceptions.Forbidden, exceptions.Unauthorized) as exc:
            raise ConfigError(
                f"{action} {self.name}: {exc.message} (project.yaml worker.project/zone/instance, "
                "the service account's compute.instances permissions)"
            ) from None
        except exceptions.GoogleAPIError as exc:
            raise TransientError(f"{action} {self.name}: {exc}") from None

    def status(self) -> State:
        status = str(self._call("get").status)
        if status == "SUSPENDED":
            raise ConfigError(f"{self.name} is suspended: resume it (gcloud compute instances resume)")
        return STATES.get(status, "starting")

    def start(self) -> None:
        self._call("start")  # an operation; the instance's status shows its progress

    def stop(self) -> None:
        self._call("stop")

    def private_address(self) -> str | None:
        interfaces = self._call("get").network_interfaces
        return interfaces[0].network_i_p if interfaces else None


class GcpVmWorker(VmWorker):
    def __init__(self, config: GcpVmWorkerConfig):
        super().__init__(config)
        self.config = config

    def machine(self) -> Machine:
        return GceInstance(self.config)
