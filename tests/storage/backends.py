"""One Storage per backend for the conformance suite, each on its real emulator (moto, gcp-storage-emulator,
Azurite) or a temporary folder; every test gets a fresh prefix in a bucket/container made once a session."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.azurite import ACCOUNT_KEY
from tests.emulators.moto import AWS_ENV

BUCKET = "headrace-test"
BACKENDS = ["local", "s3", "gcs", "azure"]


def s3_config(endpoint: str, prefix: str, bucket: str = BUCKET) -> dict[str, Any]:
    return {
        "type": "s3",
        "bucket": bucket,
        "prefix": prefix,
        "region": AWS_ENV["AWS_DEFAULT_REGION"],
        "endpoint_url": endpoint,
        "access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"],
        "secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    }


def gcs_config(endpoint: str, prefix: str, bucket: str = BUCKET) -> dict[str, Any]:
    return {"type": "gcs", "bucket": bucket, "prefix": prefix, "endpoint": endpoint, "anonymous": True}


def azure_config(account_url: str, prefix: str, container: str = BUCKET) -> dict[str, Any]:
    return {
        "type": "azure",
        "account_url": account_url,
        "container": container,
        "prefix": prefix,
        "account_key": ACCOUNT_KEY,
    }


def make_bucket(kind: str, endpoint: str, name: str = BUCKET) -> None:
    """Create the bucket/container with the SDK (idempotent)."""
    if kind == "s3":
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=AWS_ENV["AWS_DEFAULT_REGION"],
            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        )
        if name not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
            client.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": AWS_ENV["AWS_DEFAULT_REGION"]}
            )
    elif kind == "gcs":
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        client = storage.Client(
            project="test", credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=endpoint)
        )
        if client.lookup_bucket(name) is None:
            client.create_bucket(name)
    elif kind == "azure":
        from azure.storage.blob import BlobServiceClient

        container = BlobServiceClient(endpoint, credential=ACCOUNT_KEY).get_container_client(name)
        if not container.exists():
            container.create_container()


def config_for(kind: str, request: pytest.FixtureRequest, tmp_path: Path, prefix: str = "") -> dict[str, Any]:
    """A storage config on a fresh prefix; starts the backend's session emulator on first use."""
    prefix = prefix or f"t-{uuid.uuid4().hex[:8]}/headrace"
    if kind == "local":
        return {"type": "local", "path": str(tmp_path / "storage")}
    endpoint = request.getfixturevalue(
        {"s3": "moto_endpoint", "gcs": "gcs_endpoint", "azure": "azurite_account_url"}[kind]
    )
    make_bucket(kind, endpoint)
    return {"s3": s3_config, "gcs": gcs_config, "azure": azure_config}[kind](endpoint, prefix)


def open_config(config: dict[str, Any], state_dir: Path):  # type: ignore[no-untyped-def]
    """The Storage for a config with its references already resolved (as a task has it)."""
    from headrace import plugins
    from headrace.storage import open_storage

    model = plugins.get("storage", config["type"]).config.model_validate(config, context={"resolved": True})
    return open_storage(model, state_dir)
