"""``azure_vm``: the worker VM is an Azure VM (azure-mgmt-compute), started and deallocated.

Credentials are ``DefaultAzureCredential`` (the Airflow VM's managed identity);
``management_endpoint`` points the client at another Resource Manager endpoint (a proxy, a
test server; over plain http only for a local one). Start and deallocate are long-running
operations: they are started here and polled by the SDK's poller in the background, while
the VM's power state (``instance_view``) shows their progress; a failed operation is raised
at the next look at the state.
"""

from __future__ import annotations

from typing import Any

from headrace.errors import ConfigError, TransientError
from headrace.workers.vm.azure import AzureVmWorkerConfig
from headrace.workers.vm.machine import Machine, State
from headrace.workers.vm.worker import VmWorker

# PowerState/<code> of the instance view; a stopped (not deallocated) VM still costs: it is started too
STATES: dict[str, State] = {
    "starting": "starting",
    "running": "running",
    "stopping": "stopping",
    "deallocating": "stopping",
    "stopped": "stopped",
    "deallocated": "stopped",
}
NIC_API_VERSION = "2023-09-01"


class AzureVm(Machine):
    def __init__(self, config: AzureVmWorkerConfig):
        from azure.identity import DefaultAzureCredential
        from azure.mgmt.compute import ComputeManagementClient

        self.group, self.vm = config.resource_group, config.vm_name
        self.key = f"azure_vm-{config.subscription_id}-{config.resource_group}-{config.vm_name}"
        self.name = f"Azure VM {config.vm_name} (resource group {config.resource_group})"
        endpoint = config.management_endpoint
        extra: dict[str, Any] = {"base_url": endpoint} if endpoint else {}
        # the SDK refuses to send a token over http; a local endpoint (tests, a proxy on this machine) uses it
        self.options: dict[str, Any] = {"enforce_https": False} if endpoint and endpoint.startswith("http:") else {}
        self.client: Any = ComputeManagementClient(DefaultAzureCredential(), config.subscription_id, **extra)
        self._pending: Any = None  # the poller of the last start or deallocate

    def _call(self, action: str, *args: Any) -> Any:
        from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError
        from azure.identity import CredentialUnavailableError

        try:
            return getattr(self.client.virtual_machines, action)(self.group, self.vm, *args, **self.options)
        except (CredentialUnavailableError, ClientAuthenticationError) as exc:
            raise ConfigError(f"{action} {self.name}: no usable Azure credentials (managed identity): {exc}") from None
        except HttpResponseError as exc:
            message = f"{action} {self.name}: {exc.status_code} {exc.reason}: {exc.message}"
            if exc.status_code in (401, 403, 404):
                raise ConfigError(
                    f"{message} (project.yaml worker.subscription_id/resource_group/vm_name, the identity's role)"
                ) from None
            raise TransientError(message) from None
        except AzureError as exc:
            raise TransientError(f"{action} {self.name}: {exc}") from None

    def status(self) -> State:
        self._raise_failed_operation()
        codes = [s.code or "" for s in self._call("instance_view").statuses or []]
        power = next((c.split("/", 1)[1] for c in codes if c.startswith("PowerState/")), "")
        return STATES.get(power, "starting")

    def _raise_failed_operation(self) -> None:
        poller, self._pending = self._pending, None
        if poller is None or not poller.done():
            self._pending = poller
            return
        try:
            poller.result()
        except Exception as exc:
            raise TransientError(f"{self.name}: the last start or deallocate failed: {exc}") from None

    def start(self) -> None:
        self._pending = self._call("begin_start")

    def stop(self) -> None:
        self._pending = self._call("begin_deallocate")  # deallocated: the compute is no longer billed

    def private_address(self) -> str | None:
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        nics = self._call("get").network_profile.network_interfaces or []
        if not nics:
            return None
        request = HttpRequest("GET", f"{nics[0].id}?api-version={NIC_API_VERSION}")
        try:
            response = self.client.send_request(request, **self.options)
            response.raise_for_status()
        except AzureError as exc:
            raise ConfigError(
                f"cannot read the private IP of {self.name} from its network interface ({exc}): give the identity "
                "Microsoft.Network/networkInterfaces/read, or set project.yaml worker.host"
            ) from None
        configs = response.json().get("properties", {}).get("ipConfigurations", [])
        return configs[0].get("properties", {}).get("privateIPAddress") if configs else None


class AzureVmWorker(VmWorker):
    def __init__(self, config: AzureVmWorkerConfig):
        super().__init__(config)
        self.config = config

    def machine(self) -> Machine:
        return AzureVm(self.config)
