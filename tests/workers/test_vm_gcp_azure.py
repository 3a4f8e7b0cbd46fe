"""The GCP and Azure VM workers at the HTTP boundary of their SDKs (no emulator of either compute API runs here).

A local recording HTTP server (tests/workers/vm_recording.py) plays the Compute Engine
REST API (instances get/start/stop, and the OAuth token endpoint of the credentials
file ``google.auth.default()`` reads) or Azure Resource Manager (instanceView, start and
deallocate as long-running operations with ``Azure-AsyncOperation`` polling, the VM and
its network interface, and the App Service managed identity endpoint that
``DefaultAzureCredential`` asks for a token). The SDKs are real; what is asserted is the
requests they send and how the worker reads the states the server answers. The VM's
Docker over SSH is real too (the local sshd of tests/emulators/sshd.py), reached at the
private address the cloud API returns. Whether the real APIs answer the same way is
listed in docs/worker-vms.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headrace.workers.base import WorkSpec
from headrace.workers.vm import machine

from tests.workers.vm_recording import Answer, Recorder, Request, recording

pytestmark = [pytest.mark.workers, pytest.mark.integration]

GCE = "/compute/v1/projects/proj/zones/europe-west1-b/instances/worker"
ARM = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/worker"
NIC = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/worker-nic"


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "POLL_S", 0.05)


class FakeGce:
    """Compute Engine: a TERMINATED instance; STAGING, RUNNING after start; STOPPING, TERMINATED after stop."""

    def __init__(self, status: str = "TERMINATED"):
        self.status = status
        self.next: list[str] = []
        self.stuck = False  # a start that never gets past STAGING

    def __call__(self, request: Request) -> Answer:
        flavor = {"Metadata-Flavor": "Google"}
        if request.route == "/":  # the metadata server's ping: "on Compute Engine"
            return 200, None, flavor
        if request.route.startswith("/computeMetadata/v1/"):
            return 200, METADATA.get(request.route.removeprefix("/computeMetadata/v1/")), flavor
        if not request.route.startswith(GCE):
            return 404, {"error": {"code": 404, "message": f"The resource '{request.route}' was not found"}}, {}
        if request.method == "GET" and request.route == GCE:
            if self.next:
                self.status = self.next.pop(0)
            body = {"name": "worker", "status": self.status, "networkInterfaces": [{"networkIP": "127.0.0.1"}]}
            return 200, body, {}
        action = request.route.rsplit("/", 1)[1]
        self.next = {"start": ["STAGING", "RUNNING"], "stop": ["STOPPING", "TERMINATED"]}[action]
        if self.stuck:
            self.next = ["STAGING"]
        operation = {"name": f"operation-{action}", "status": "RUNNING", "operationType": action, "zone": "zones/x"}
        return 200, operation, {}


# what the metadata server of a VM with a service account answers (google.auth.default() on Compute Engine)
METADATA = {
    "project/project-id": "proj",
    "instance/service-accounts/default/": {"email": "airflow@proj.iam.gserviceaccount.com", "aliases": ["default"],
                                           "scopes": ["https://www.googleapis.com/auth/cloud-platform"]},
    "instance/service-accounts/default/token": {"access_token": "gce-token", "expires_in": 3600,
                                                "token_type": "Bearer"},
    "universe/universe-domain": "googleapis.com",
}  # fmt: skip


@pytest.fixture
def gce_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Recorder, FakeGce]]:
    """The compute API, and the Airflow VM's metadata server that google.auth.default() finds on Compute Engine."""
    from google.auth.compute_engine import _metadata

    fake = FakeGce()
    with recording(fake) as server:
        host = server.url.removeprefix("http://")
        monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
        monkeypatch.setenv("GCE_METADATA_IP", host)
        monkeypatch.setattr(_metadata, "_GCE_METADATA_HOST", host)  # GCE_METADATA_HOST, read at import
        yield server, fake


def _gcp(server: Recorder, sshd: Any, **over: Any) -> Any:
    from headrace.workers.vm.gcp import GcpVmWorkerConfig
    from headrace.workers.vm.gcp.worker import GcpVmWorker

    values = {"type": "gcp_vm", "project": "proj", "zone": "europe-west1-b", "instance": "worker"}
    ssh = {"ssh_port": sshd.port, "ssh_user": sshd.user, "ssh_key_file": str(sshd.client_key), "start_timeout": 30}
    return GcpVmWorker(GcpVmWorkerConfig.model_validate({**values, **ssh, "api_endpoint": server.url, **over}))


def test_gcp_starts_the_instance_reaches_its_private_address_and_stops_it(
    gce_credentials: tuple[Recorder, FakeGce], sshd_server: Any, state_env: Path
) -> None:
    server, _ = gce_credentials
    lines: list[str] = []
    with _gcp(server, sshd_server).session(Path.cwd(), "extractor:crm", lines.append) as connect:
        assert connect is not None
        client = connect()  # over SSH to networkInterfaces[0].networkIP, as no worker.host is set
        assert client.ping()
        client.close()
    assert server.calls(GCE) == [
        f"GET {GCE}",  # TERMINATED
        f"POST {GCE}/start",
        f"GET {GCE}",  # STAGING
        f"GET {GCE}",  # RUNNING
        f"GET {GCE}",  # its private address
        f"GET {GCE}",  # still RUNNING as the last lease goes
        f"POST {GCE}/stop",
    ]
    compute = [r for r in server.requests if r.route.startswith(GCE)]
    assert [r.headers.get("authorization") for r in compute] == ["Bearer gce-token"] * len(compute)
    assert "GET /computeMetadata/v1/instance/service-accounts/default/token" in server.calls()  # the VM's account
    assert "the worker VM is starting, waiting" in lines
    assert lines[-1] == "stopped the worker VM, Compute Engine instance worker (proj, europe-west1-b): no task needs it"


def test_gcp_an_unknown_instance_is_a_configuration_error(
    gce_credentials: tuple[Recorder, FakeGce], sshd_server: Any, state_env: Path
) -> None:
    server, _ = gce_credentials
    outcome = _gcp(server, sshd_server, instance="nope").run(WorkSpec(["true"]), lambda line: None)
    assert outcome.returncode == 2
    error = outcome.last_lines[0]
    assert error.startswith("get Compute Engine instance nope (proj, europe-west1-b): GET ")
    assert f"The resource '{GCE[:-6]}nope' was not found" in error
    assert "project.yaml worker.project/zone/instance" in error


def test_gcp_an_instance_that_never_runs_is_a_clear_error_and_left_to_the_sweeper(
    gce_credentials: tuple[Recorder, FakeGce], sshd_server: Any, state_env: Path
) -> None:
    server, fake = gce_credentials
    fake.stuck = True  # started, and stuck in STAGING (no capacity in the zone, say)
    outcome = _gcp(server, sshd_server, start_timeout=5).run(WorkSpec(["true"]), lambda line: None)
    assert outcome.returncode == 75  # retried later
    assert outcome.last_lines[0].startswith(
        "the worker VM, Compute Engine instance worker (proj, europe-west1-b), did not start within "
        "worker.start_timeout (starting at the end)"
    )
    assert server.calls(f"{GCE}/") == [f"POST {GCE}/start"]  # a starting VM is not stopped: the sweeper will
    assert "left Compute Engine instance worker" in " ".join(_events(state_env))


def _events(state: Path) -> list[str]:
    return [line for log in state.glob("workers/*/events.log") for line in log.read_text().splitlines()]


class FakeArm:
    """Resource Manager: a deallocated VM; start and deallocate are long-running operations polled twice."""

    def __init__(self, url: str = "", fail_start: bool = False):
        self.url = url
        self.power = "deallocated"
        self.next: list[str] = []
        self.operations: dict[str, list[str]] = {}
        self.fail_start = fail_start

    def __call__(self, request: Request) -> Answer:
        route = request.route
        if route == "/msi/token":  # the App Service managed identity endpoint
            token = {"access_token": "arm-token", "expires_on": str(int(time.time()) + 3600), "token_type": "Bearer"}
            return 200, {**token, "resource": "https://management.azure.com"}, {}
        if route.startswith("/operations/"):
            status = self.operations[route].pop(0) if len(self.operations[route]) > 1 else self.operations[route][0]
            error = {"error": {"code": "AllocationFailed", "message": "no capacity"}} if status == "Failed" else {}
            return 200, {"status": status, **error}, {"Retry-After": "1"}
        if route == f"{ARM}/instanceView":
            if self.next:
                self.power = self.next.pop(0)
            statuses = [{"code": "ProvisioningState/succeeded"}, {"code": f"PowerState/{self.power}"}]
            return 200, {"statuses": statuses}, {}
        if route == ARM:
            nics = [{"id": NIC}]
            return (
                200,
                {
                    "name": "worker",
                    "location": "westeurope",
                    "properties": {"networkProfile": {"networkInterfaces": nics}},
                },
                {},
            )
        if route == NIC:
            return 200, {"properties": {"ipConfigurations": [{"properties": {"privateIPAddress": "127.0.0.1"}}]}}, {}
        action = route.rsplit("/", 1)[1]
        if request.method == "POST" and action in ("start", "deallocate"):
            failed = action == "start" and self.fail_start
            self.operations[f"/operations/{action}"] = ["InProgress", "Failed" if failed else "Succeeded"]
            if not failed:
                self.next = {"start": ["starting", "running"], "deallocate": ["deallocating", "deallocated"]}[action]
            headers = {"Azure-AsyncOperation": f"{self.url}/operations/{action}", "Retry-After": "1"}
            return 202, None, headers
        return 404, {"error": {"code": "ResourceNotFound", "message": f"{route} was not found"}}, {}


def _azure(server: Recorder, sshd: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from headrace.workers.vm.azure import AzureVmWorkerConfig
    from headrace.workers.vm.azure.worker import AzureVmWorker

    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{server.url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "identity-header")
    values = {"type": "azure_vm", "subscription_id": "sub", "resource_group": "rg", "vm_name": "worker"}
    ssh = {"ssh_port": sshd.port, "ssh_user": sshd.user, "ssh_key_file": str(sshd.client_key), "start_timeout": 30}
    return AzureVmWorker(AzureVmWorkerConfig.model_validate({**values, **ssh, "management_endpoint": server.url}))


def test_azure_starts_the_vm_polls_the_operation_and_deallocates_it(
    sshd_server: Any, state_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeArm()
    with recording(fake) as server:
        fake.url = server.url
        lines: list[str] = []
        with _azure(server, sshd_server, monkeypatch).session(Path.cwd(), "extractor:crm", lines.append) as connect:
            assert connect is not None
            client = connect()  # over SSH to the private address of the VM's network interface
            assert client.ping()
            client.close()
        while server.calls("/operations/deallocate") != ["GET /operations/deallocate"] * 2:
            time.sleep(0.2)  # the SDK's poller follows the operation in the background
    calls = server.calls("/subscriptions")
    assert calls[:2] == [f"GET {ARM}/instanceView", f"POST {ARM}/start"]
    assert calls[-2:] == [f"GET {ARM}/instanceView", f"POST {ARM}/deallocate"]
    assert f"GET {ARM}" in calls and f"GET {NIC}" in calls
    assert server.calls("/operations/start") == ["GET /operations/start"] * 2  # InProgress, then Succeeded
    arm = [r for r in server.requests if r.route.startswith("/subscriptions")]
    assert all(r.headers.get("authorization") == "Bearer arm-token" for r in arm)
    assert all("api-version=" in r.path for r in arm)
    (token,) = [r for r in server.requests if r.route == "/msi/token"]
    assert token.headers.get("x-identity-header") == "identity-header"  # DefaultAzureCredential's managed identity
    assert lines[-1] == "stopped the worker VM, Azure VM worker (resource group rg): no task needs it"


def test_azure_a_failed_start_operation_is_a_clear_error(
    sshd_server: Any, state_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeArm(fail_start=True)
    with recording(fake) as server:
        fake.url = server.url
        outcome = _azure(server, sshd_server, monkeypatch).run(WorkSpec(["true"]), lambda line: None)
    assert outcome.returncode == 75
    assert outcome.last_lines[0].startswith("Azure VM worker (resource group rg): the last start or deallocate failed")
    assert "no capacity" in outcome.last_lines[0]
    assert server.calls(f"{ARM}/deallocate") == []  # it never ran: nothing to deallocate
