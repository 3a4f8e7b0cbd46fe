"""Azure Blob Storage as storage: config and plugin record.

azure-storage-blob (and azure-identity) are imported only when the storage opens
(``headrace.storage.azure.storage``). Credentials default to the machine's identity
(``DefaultAzureCredential``: managed identity, workload identity, environment, Azure CLI
login); an account key or a SAS token may be given as ``${secret:NAME}``.
"""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import SecretOnly, Strict, Text
from headrace.storage.base import StorageCapabilities
from pydantic import Field, model_validator

CAPABILITIES = StorageCapabilities(scheme="azure")


class AzureStorageConfig(Strict):
    """A blob container; objects go under ``prefix/``."""

    type: Literal["azure"]
    account_url: Text = Field(
        description="https://<account>.blob.core.windows.net (an emulator: http://127.0.0.1:PORT/<account>)"
    )
    container: Text
    prefix: Text = Field("", description="folder in the container under which Headrace keeps its objects")
    account_key: SecretOnly | None = Field(None, description="leave out to use the machine's identity")
    sas_token: SecretOnly | None = Field(None, description="a SAS token instead of an identity or account key")
    managed_identity_client_id: Text | None = Field(
        None, description="which user-assigned managed identity to use when the VM has several (or AZURE_CLIENT_ID)"
    )

    @model_validator(mode="after")
    def _one_credential(self) -> AzureStorageConfig:
        if self.account_key is not None and self.sas_token is not None:
            raise ValueError("give account_key or sas_token, not both (or neither: the machine's identity)")
        return self


plugin = Plugin(
    "storage",
    "azure",
    AzureStorageConfig,
    "headrace.storage.azure.storage:AzureStorage",
    CAPABILITIES,
    description="an Azure Blob Storage container",
    extra="azure",
    requires=("azure.storage.blob", "azure.identity"),
)
