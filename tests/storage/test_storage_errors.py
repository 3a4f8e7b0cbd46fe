"""What a user reads when a bucket is missing or the identity may not use it.

A missing bucket/container is shown on the emulators. Access denied cannot be shown there
(moto, gcp-storage-emulator and Azurite with its development key allow everything), so it is
asserted at the HTTP boundary: a local HTTP server answers every request as the cloud's API
answers a denied one (403 with the service's error code), and the real SDK is pointed at it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from headrace.errors import ConfigError

from tests.httpserver import serve
from tests.storage.backends import azure_config, config_for, gcs_config, open_config, s3_config

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_missing_bucket_is_named_with_the_fix(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    config = config_for(kind, request, tmp_path)
    config["container" if kind == "azure" else "bucket"] = "no-such-bucket"
    storage = open_config(config, tmp_path)
    with pytest.raises(ConfigError) as caught:
        storage.folders("raw/shop/orders")
    message = str(caught.value)
    assert "no-such-bucket" in message and "does not exist" in message and "create it" in message


DENIED = {
    "s3": (
        403,
        b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
        b"</Error>",
        {"Content-Type": "application/xml"},
    ),
    "gcs": (
        403,
        b'{"error": {"code": 403, "message": "sa@p.iam.gserviceaccount.com does not have storage.objects.list '
        b'access to the Google Cloud Storage bucket.", "errors": []}}',
        {"Content-Type": "application/json"},
    ),
    "azure": (
        403,
        b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code>'
        b"<Message>This request is not authorized to perform this operation using this permission.</Message></Error>",
        {"Content-Type": "application/xml", "x-ms-error-code": "AuthorizationPermissionMismatch"},
    ),
}


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_access_denied_names_the_identity_and_the_permission(kind: str, tmp_path: Path) -> None:
    class Denied(dict):
        def __contains__(self, path: object) -> bool:
            return True

        def __getitem__(self, path: str):  # type: ignore[no-untyped-def]
            return lambda handler: DENIED[kind]

    with serve(Denied()) as url:
        config = {
            "s3": lambda: s3_config(url, "p"),
            "gcs": lambda: gcs_config(url, "p"),
            "azure": lambda: azure_config(f"{url}/devstoreaccount1", "p"),
        }[kind]()
        storage = open_config(config, tmp_path)
        if kind == "s3":
            storage.client.meta.events.register("needs-retry.*", lambda **kwargs: None)
        with pytest.raises(ConfigError) as caught:
            storage.folders("raw/shop/orders")
    message = str(caught.value)
    assert "access denied" in message and "headrace-test" in message
    expected = {
        "s3": ("the access key of storage.access_key_id", "s3:ListBucket"),
        "gcs": ("no identity (anonymous: true)", "roles/storage.objectUser"),
        "azure": ("the account key of storage.account_key", "Storage Blob Data Contributor"),
    }[kind]
    assert all(part in message for part in expected), message
