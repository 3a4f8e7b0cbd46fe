"""``secrets: {type: gcp}`` at the HTTP boundary: the real Secret Manager SDK (REST transport,
``api_endpoint``) against a local recording server.

There is no Secret Manager emulator here, so the server answers the few REST calls the
backend makes (access a version, create a secret, add a version, delete) from a dict, and
the tests assert the requests: the resource names, the bearer token from the machine's
identity (a service-account key file whose ``token_uri`` is the same server), one access per
name per process. What Google's real service does beyond these answers (IAM, replication,
CRC checks) is confirmed on a real account only (docs/secrets.md).
"""

from __future__ import annotations

import base64
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
PROJECT = "hr-test"
JSON = {"Content-Type": "application/json"}


class FakeSecretManager:
    """The REST answers of Secret Manager v1 for what the backend calls; 403 for secrets named denied*."""

    def __init__(self) -> None:
        self.secrets: dict[str, list[str]] = {}

    def __call__(self, request: Request) -> Answer:
        path = request.path.split("?")[0]
        if path == "/token":
            return 200, json.dumps({"access_token": "ya29.machine-identity", "expires_in": 3600}).encode(), JSON
        match = re.fullmatch(
            rf"/v1/projects/{PROJECT}/secrets(?:/([^/:]+))?(?:/versions/latest)?(:access|:addVersion)?", path
        )
        if not match:
            return 404, b'{"error": {"code": 404, "message": "no route", "status": "NOT_FOUND"}}', JSON
        secret, verb = match.group(1), match.group(2)
        if secret and secret.startswith("denied"):
            body = {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "Permission denied"}}
            return 403, json.dumps(body).encode(), JSON
        if request.method == "POST" and secret is None:
            secret = request.path.split("secretId=")[1].split("&")[0]
            if secret in self.secrets:
                return 409, b'{"error": {"code": 409, "status": "ALREADY_EXISTS", "message": "exists"}}', JSON
            self.secrets[secret] = []
            return 200, json.dumps({"name": f"projects/{PROJECT}/secrets/{secret}"}).encode(), JSON
        if secret not in self.secrets or (verb == ":access" and not self.secrets[secret]):
            body = {"error": {"code": 404, "status": "NOT_FOUND", "message": f"Secret [{secret}] not found"}}
            return 404, json.dumps(body).encode(), JSON
        if verb == ":access":
            data = self.secrets[secret][-1]
            name = f"projects/{PROJECT}/secrets/{secret}/versions/{len(self.secrets[secret])}"
            return 200, json.dumps({"name": name, "payload": {"data": data}}).encode(), JSON
        if verb == ":addVersion":
            self.secrets[secret].append(json.loads(request.body)["payload"]["data"])
            return 200, json.dumps({"name": f"projects/{PROJECT}/secrets/{secret}/versions/1"}).encode(), JSON
        if request.method == "DELETE":
            del self.secrets[secret]
            return 200, b"{}", JSON
        return 400, b'{"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "?"}}', JSON

    def put(self, secret: str, value: str) -> None:
        self.secrets.setdefault(secret, []).append(base64.b64encode(value.encode()).decode())


def service_account_key(path: Path, token_uri: str) -> Path:
    """A service-account key file (a fresh RSA key) whose tokens come from ``token_uri``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "k1",
        "private_key": pem.decode(),
        "client_email": f"worker@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    return path


@pytest.fixture(scope="module")
def fake_sm() -> Iterator[tuple[FakeSecretManager, Recorder]]:
    fake = FakeSecretManager()
    recorder = Recorder(fake)
    yield fake, recorder
    recorder.close()


@pytest.fixture
def gcp_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sm: tuple[FakeSecretManager, Recorder]) -> None:
    key = service_account_key(tmp_path / "sa.json", f"{fake_sm[1].url}/token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)


def accesses(recorder: Recorder) -> list[Request]:
    return recorder.matching(lambda r: r.path.split("?")[0].endswith(":access"))


def test_references_resolve_from_secret_manager_once_per_name(
    tmp_path: Path, fake_sm: tuple[FakeSecretManager, Recorder], gcp_identity: None
) -> None:
    fake, recorder = fake_sm
    fake.put("g1-db_password", "Gcp-Db-Pa55")
    recorder.clear()
    resolver = SecretResolver(tmp_path, {"type": "gcp", "prefix": "g1-", "api_endpoint": recorder.url})
    assert recorder.requests == [], "making a resolver must send nothing"
    assert resolver.resolve("u:${secret:db_password}:${secret:db_password}") == "u:Gcp-Db-Pa55:Gcp-Db-Pa55"
    assert resolver.secret("db_password") == "Gcp-Db-Pa55"
    asked = accesses(recorder)
    assert [r.path.split("?")[0] for r in asked] == [
        f"/v1/projects/{PROJECT}/secrets/g1-db_password/versions/latest:access"
    ]
    assert asked[0].headers["authorization"].startswith("Bearer "), "the machine's identity must be sent"


def test_a_missing_secret_names_the_resource_and_the_fix(
    tmp_path: Path, fake_sm: tuple[FakeSecretManager, Recorder], gcp_identity: None
) -> None:
    resolver = SecretResolver(
        tmp_path, {"type": "gcp", "project": PROJECT, "prefix": "g2-", "api_endpoint": fake_sm[1].url}
    )
    with pytest.raises(ConfigError) as caught:
        resolver.secret("nope")
    message = str(caught.value)
    assert f"projects/{PROJECT}/secrets/g2-nope/versions/latest" in message
    assert "GCP Secret Manager" in message and f"gcloud secrets create g2-nope --project {PROJECT}" in message


def test_permission_denied_names_the_identity_and_the_role(
    tmp_path: Path, fake_sm: tuple[FakeSecretManager, Recorder], gcp_identity: None
) -> None:
    resolver = SecretResolver(tmp_path, {"type": "gcp", "prefix": "denied-", "api_endpoint": fake_sm[1].url})
    with pytest.raises(ConfigError) as caught:
        resolver.secret("x")
    message = str(caught.value)
    assert f"worker@{PROJECT}.iam.gserviceaccount.com" in message
    assert "roles/secretmanager.secretAccessor" in message


def test_reader_passwords_are_kept_in_secret_manager(
    tmp_path: Path, fake_sm: tuple[FakeSecretManager, Recorder], gcp_identity: None
) -> None:
    fake, recorder = fake_sm
    SecretResolver(tmp_path, {"type": "gcp", "prefix": "g4-", "api_endpoint": recorder.url})
    store = open_secret_store(tmp_path / "state")
    name = "postgres-reader/db.internal:5432/bi"
    assert store.read(name) is None
    store.write(name, "Gcp-Reader-1")
    store.write(name, "Gcp-Reader-2")
    assert store.read(name) == "Gcp-Reader-2"
    [secret_id] = [s for s in fake.secrets if s.startswith("g4-")]
    assert re.fullmatch(r"g4-postgres-reader-db-internal-5432-bi-[0-9a-f]{10}", secret_id)
    created = recorder.matching(lambda r: r.method == "POST" and "secretId=" in r.path)
    assert json.loads(created[0].body)["labels"] == {"headrace": "created"}
    store.delete(name)
    assert store.read(name) is None
    assert not (tmp_path / "state").exists()
