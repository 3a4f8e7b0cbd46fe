"""Google Cloud Storage as storage: config and plugin record.

google-cloud-storage is imported only when the storage opens (``headrace.storage.gcs.storage``).
Credentials default to the machine's identity (Application Default Credentials: the VM's or
workload's service account, ``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's login); a service
account key may be given as ``credentials_json: ${secret:NAME}``; ``anonymous: true`` sends
no credentials at all (an emulator such as gcp-storage-emulator, with ``endpoint``).
"""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Deferred, SecretOnly, Strict, Text
from headrace.storage.base import StorageCapabilities
from pydantic import Field, model_validator

CAPABILITIES = StorageCapabilities(scheme="gs")


class GCSStorageConfig(Strict):
    """A GCS bucket; objects go under ``prefix/``."""

    type: Literal["gcs"]
    bucket: Text
    prefix: Text = Field("", description="folder in the bucket under which Headrace keeps its objects")
    project: Text | None = Field(None, description="the project billed for requests (default: the credentials')")
    endpoint: Text | None = Field(None, description="another API endpoint (an emulator: http://127.0.0.1:PORT)")
    credentials_json: SecretOnly | None = Field(
        None, description="a service account key (JSON); leave out to use the machine's identity"
    )
    anonymous: Deferred[bool] = Field(False, description="send no credentials (emulators only)")

    @model_validator(mode="after")
    def _one_identity(self) -> GCSStorageConfig:
        if self.anonymous is True and self.credentials_json is not None:
            raise ValueError("anonymous and credentials_json exclude each other")
        return self


plugin = Plugin(
    "storage",
    "gcs",
    GCSStorageConfig,
    "headrace.storage.gcs.storage:GCSStorage",
    CAPABILITIES,
    description="a Google Cloud Storage bucket",
    extra="gcs",
    requires=("google.cloud.storage",),
)
