"""``secrets: {type: azure}`` at the HTTP boundary: the real Key Vault SDK and ``DefaultAzureCredential``
against a local recording HTTPS server.

There is no Key Vault emulator here. The Azure SDK sends bearer tokens over HTTPS only,
so the server speaks TLS with a self-signed certificate made for the test and trusted
through ``REQUESTS_CA_BUNDLE``. The machine's identity is the managed identity of
``DefaultAzureCredential`` (App Service style: ``IDENTITY_ENDPOINT`` + ``IDENTITY_HEADER``,
answered by the same server). The server answers Key Vault's challenge (401 first), then
get, set and delete from a dict; the tests assert the requests: secret names, the bearer
token, one get per name per process. Real Key Vault behaviour beyond these answers (RBAC,
soft delete and purge) is confirmed on a real account only (docs/secrets.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from headrace.errors import ConfigError
from headrace.secrets import SecretResolver
from headrace.secretstore import open_secret_store

from tests.secrets.recorder import Answer, Recorder, Request

pytestmark = pytest.mark.integration
JSON = {"Content-Type": "application/json"}
TOKEN = "eyJ.managed-identity.token"


class FakeKeyVault:
    """Key Vault's REST answers for get, set and delete; 403 for secrets named denied-*."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.url = ""

    def _bundle(self, name: str) -> bytes:
        return json.dumps(
            {"value": self.secrets[name], "id": f"{self.url}/secrets/{name}/v1", "attributes": {"enabled": True}}
        ).encode()

    def __call__(self, request: Request) -> Answer:
        path = request.path.split("?")[0]
        if path == "/msi/token":
            if request.headers.get("x-identity-header") != "identity-header-value":
                return 400, b"{}", JSON
            body = {"access_token": TOKEN, "expires_on": "4102444800", "token_type": "Bearer"}
            return 200, json.dumps(body).encode(), JSON
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            # Key Vault's challenge names a resource whose domain the vault's host ends with (*.vault.azure.net
            # for vault.azure.net); for 127.0.0.1:<port> that is 0.0.1:<port>
            port = self.url.rsplit(":", 1)[1]
            challenge = f'Bearer authorization="https://login.example/tenant-1", resource="https://0.0.1:{port}"'
            return 401, b"", {"WWW-Authenticate": challenge}
        match = re.fullmatch(r"/secrets/([A-Za-z0-9-]+)/?", path)
        if not match:
            return 404, b'{"error": {"code": "NotFound", "message": "no route"}}', JSON
        name = match.group(1)
        if name.startswith("denied-"):
            message = (
                "Caller is not authorized to perform action on resource. Caller: appid=app-1;oid=oid-worker-1 "
                "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'"
            )
            return 403, json.dumps({"error": {"code": "Forbidden", "message": message}}).encode(), JSON
        if request.method == "PUT":
            self.secrets[name] = json.loads(request.body)["value"]
            return 200, self._bundle(name), JSON
        if name not in self.secrets:
            body = {
                "error": {
                    "code": "SecretNotFound",
                    "message": f"A secret with (name/id) {name} was not found in this key vault.",
                }
            }
            return 404, json.dumps(body).encode(), JSON
        if request.method == "DELETE":
            answer = self._bundle(name)
            del self.secrets[name]
            return 200, answer, JSON
        return 200, self._bundle(name), JSON


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeKeyVault, Recorder]]:
    fake = FakeKeyVault()
    recorder = Recorder(fake, tls_dir=tmp_path_factory.mktemp("tls"))
    fake.url = recorder.url
    yield fake, recorder
    recorder.close()


@pytest.fixture
def azure_identity(monkeypatch: pytest.MonkeyPatch, vault: tuple[FakeKeyVault, Recorder]) -> None:
    recorder = vault[1]
    assert recorder.ca_file is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(recorder.ca_file))
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{recorder.url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "identity-header-value")
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "MSI_ENDPOINT",
        "IMDS_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)


def gets(recorder: Recorder) -> list[Request]:
    return recorder.matching(
        lambda r: r.method == "GET" and r.path.startswith("/secrets/") and "authorization" in r.headers
    )


def test_references_resolve_from_key_vault_once_per_name(
    tmp_path: Path, vault: tuple[FakeKeyVault, Recorder], azure_identity: None
) -> None:
    fake, recorder = vault
    fake.secrets["a1-crm-password"] = "Kv-Crm-Pa55"
    recorder.clear()
    resolver = SecretResolver(tmp_path, {"type": "azure", "vault_url": recorder.url, "prefix": "a1-"})
    assert recorder.requests == [], "making a resolver must send nothing"
    assert resolver.resolve("${secret:crm_password}/${secret:CRM_PASSWORD}") == "Kv-Crm-Pa55/Kv-Crm-Pa55"
    assert resolver.secret("crm_password") == "Kv-Crm-Pa55"
    asked = gets(recorder)
    # crm_password and CRM_PASSWORD are one Key Vault secret, but two names: fetched once each
    assert {r.path.split("?")[0] for r in asked} == {"/secrets/a1-crm-password/"} and len(asked) == 2
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in asked)
    assert recorder.matching(lambda r: r.path.startswith("/msi/token")), "the token came from the managed identity"


def test_a_missing_secret_names_the_vault_secret_and_the_fix(
    tmp_path: Path, vault: tuple[FakeKeyVault, Recorder], azure_identity: None
) -> None:
    resolver = SecretResolver(tmp_path, {"type": "azure", "vault_url": vault[1].url, "prefix": "a2-"})
    with pytest.raises(ConfigError) as caught:
        resolver.secret("no_such")
    message = str(caught.value)
    assert f"{vault[1].url}/secrets/a2-no-such" in message
    assert "az keyvault secret set --vault-name <vault> --name a2-no-such" in message


def test_permission_denied_names_the_caller_and_the_role(
    tmp_path: Path, vault: tuple[FakeKeyVault, Recorder], azure_identity: None
) -> None:
    resolver = SecretResolver(tmp_path, {"type": "azure", "vault_url": vault[1].url, "prefix": "denied-"})
    with pytest.raises(ConfigError) as caught:
        resolver.secret("x")
    message = str(caught.value)
    assert "oid=oid-worker-1" in message and "Key Vault Secrets User" in message


def test_reader_passwords_are_kept_in_key_vault(
    tmp_path: Path, vault: tuple[FakeKeyVault, Recorder], azure_identity: None
) -> None:
    fake, recorder = vault
    SecretResolver(tmp_path, {"type": "azure", "vault_url": recorder.url, "prefix": "a4-"})
    store = open_secret_store(tmp_path / "state")
    name = "postgres-reader/db.internal:5432/bi_reader"
    assert store.read(name) is None
    store.write(name, "Kv-Reader-1")
    store.write(name, "Kv-Reader-2")
    assert store.read(name) == "Kv-Reader-2"
    [secret] = [s for s in fake.secrets if s.startswith("a4-")]
    assert re.fullmatch(r"a4-postgres-reader-db-internal-5432-bi-reader-[0-9a-f]{10}", secret)
    put = recorder.matching(lambda r: r.method == "PUT" and "authorization" in r.headers)
    assert json.loads(put[0].body)["tags"] == {"headrace": "created"}
    store.delete(name)
    assert store.read(name) is None
    assert not (tmp_path / "state").exists()
