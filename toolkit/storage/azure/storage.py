"""Azure Blob storage over azure-storage-blob: block uploads streamed from the part files,
downloads read chunk by chunk."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from azure.core.credentials import AzureSasCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import BlobServiceClient
from headrace.errors import ConfigError, TransientError
from headrace.storage.azure import CAPABILITIES, AzureStorageConfig
from headrace.storage.objects import ChunkReader, ObjectStorage, StoredObject, clean_prefix

# files up to PUT_SIZE go in one request; larger ones as blocks of BLOCK_SIZE (at most
# CONCURRENCY blocks in memory); downloads in chunks of GET_SIZE
PUT_SIZE = 8 * 1024 * 1024
BLOCK_SIZE = 4 * 1024 * 1024
GET_SIZE = 4 * 1024 * 1024
CONCURRENCY = 2
PERMISSIONS = "the role Storage Blob Data Contributor on the container (or its storage account)"
DENIED = (
    "AuthorizationFailure",
    "AuthorizationPermissionMismatch",
    "AuthenticationFailed",
    "InsufficientAccountPermissions",
)


def error_code(exc: Exception) -> str | None:
    """The service's error code (``x-ms-error-code``), set on the SDK's exceptions at run time."""
    return getattr(exc, "error_code", None)


class AzureStorage(ObjectStorage):
    capabilities = CAPABILITIES

    def __init__(self, config: AzureStorageConfig, state_dir: Path):
        self.container_name = config.container
        self.prefix = clean_prefix(config.prefix)
        credential: Any
        if config.account_key:
            credential, self.identity = config.account_key, "the account key of storage.account_key"
        elif config.sas_token:
            credential, self.identity = AzureSasCredential(config.sas_token), "the SAS token of storage.sas_token"
        else:
            from azure.identity import DefaultAzureCredential

            chosen = config.managed_identity_client_id
            # passed only when set: an explicit None would hide AZURE_CLIENT_ID from the SDK
            picked = {"managed_identity_client_id": chosen} if chosen else {}
            credential = DefaultAzureCredential(exclude_interactive_browser_credential=True, **picked)
            self.identity = "the machine's identity (DefaultAzureCredential: managed identity, environment, CLI login)"
        service = BlobServiceClient(
            config.account_url.rstrip("/"),
            credential=credential,
            max_single_put_size=PUT_SIZE,
            max_block_size=BLOCK_SIZE,
            max_single_get_size=GET_SIZE,
            max_chunk_get_size=GET_SIZE,
        )
        self.account = service.account_name or ""
        self.container = service.get_container_client(self.container_name)
        self.url = f"azure://{self.account}.blob.core.windows.net/{self.container_name}/{self.prefix}".rstrip("/")
        self.where = f"Azure container {self.container_name} of account {self.account}"

    @contextmanager
    def _errors(self, action: str, name: str = "", missing: str | None = None) -> Iterator[None]:
        """SDK errors as messages naming the container, the object and the fix."""
        what = f"{self._uri(name)}" if name else self.url
        try:
            yield
        except ResourceNotFoundError as exc:
            if missing is not None and error_code(exc) != "ContainerNotFound":
                raise FileNotFoundError(f"nothing stored under {missing} in {self.url} ({self.where})") from None
            raise ConfigError(
                f"cannot {action} {what}: the container {self.container_name} does not exist in storage account "
                f"{self.account}; create it or correct storage.container in project.yaml"
            ) from None
        except ClientAuthenticationError as exc:
            if error_code(exc) in DENIED or getattr(exc, "status_code", None) == 403:
                raise ConfigError(
                    f"cannot {action} {what}: access denied for {self.identity} ({error_code(exc)}); grant it "
                    f"{PERMISSIONS}"
                ) from None
            raise ConfigError(
                f"cannot {action} {what}: no usable Azure credentials for {self.identity}; run with a managed "
                "identity or an Azure CLI login, or give storage.account_key or storage.sas_token as ${secret:NAME}"
            ) from None
        except HttpResponseError as exc:
            if error_code(exc) in DENIED or exc.status_code == 403:
                raise ConfigError(
                    f"cannot {action} {what}: access denied for {self.identity} ({error_code(exc)}); grant it "
                    f"{PERMISSIONS}"
                ) from None
            if exc.status_code in (429, 500, 503):
                raise TransientError(f"cannot {action} {what}: {error_code(exc) or exc.status_code}") from None
            raise ConfigError(f"cannot {action} {what}: {error_code(exc)}: {exc.reason}") from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise TransientError(f"cannot {action} {what}: {exc}") from None

    def _put(self, name: str, path: Path) -> None:
        with self._errors("upload to", name), path.open("rb") as stream:
            self.container.upload_blob(
                name, stream, length=path.stat().st_size, overwrite=True, max_concurrency=CONCURRENCY
            )

    def _list(self, name_prefix: str) -> Iterator[StoredObject]:
        with self._errors("list", name_prefix):
            for blob in self.container.list_blobs(name_starts_with=name_prefix):
                yield StoredObject(blob.name, blob.last_modified.timestamp())

    def _open(self, name: str, key: str) -> BinaryIO:
        with self._errors("read", name, missing=key):
            download = self.container.download_blob(name, max_concurrency=1)
        return io.BufferedReader(ChunkReader(download.chunks()), GET_SIZE)  # type: ignore[return-value]

    def _delete(self, names: list[str]) -> None:
        with self._errors("delete from", names[0]):
            for name in names:
                try:
                    self.container.delete_blob(name)
                except ResourceNotFoundError as exc:
                    if error_code(exc) == "ContainerNotFound":
                        raise

    def _uri(self, name: str) -> str:
        return f"azure://{self.account}.blob.core.windows.net/{self.container_name}/{name}"
