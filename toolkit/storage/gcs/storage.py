"""GCS storage over google-cloud-storage: resumable uploads in chunks, ranged chunked downloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, cast

from google.api_core import exceptions as api
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import DefaultCredentialsError, RefreshError
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY
from headrace.errors import ConfigError, TransientError
from headrace.storage.gcs import CAPABILITIES, GCSStorageConfig
from headrace.storage.objects import ObjectStorage, StoredObject, clean_prefix

# files above 8 MiB go as resumable uploads in chunks of this size (a multiple of 256 KiB);
# smaller ones in one request: at most this much of a part is in memory
CHUNK_SIZE = 8 * 1024 * 1024
READ_CHUNK = 4 * 1024 * 1024  # one ranged GET per chunk while reading
PERMISSIONS = (
    "roles/storage.objectUser on the bucket (storage.objects.create, get, list and delete; "
    "roles/storage.objectAdmin also works)"
)


class GCSStorage(ObjectStorage):
    capabilities = CAPABILITIES

    def __init__(self, config: GCSStorageConfig, state_dir: Path):
        self.bucket_name = config.bucket
        self.prefix = clean_prefix(config.prefix)
        self.url = f"gs://{self.bucket_name}/{self.prefix}".rstrip("/")
        self.where = f"GCS bucket {self.bucket_name}"
        options = ClientOptions(api_endpoint=config.endpoint) if config.endpoint else None
        if config.anonymous:
            self.identity = "no identity (anonymous: true)"
            credentials: Any = AnonymousCredentials()
            project = config.project or "anonymous"
        elif config.credentials_json:
            from google.oauth2 import service_account

            self.identity = "the service account of storage.credentials_json"
            try:
                info = json.loads(config.credentials_json)
                credentials = service_account.Credentials.from_service_account_info(info)
            except (ValueError, KeyError):
                raise ConfigError(
                    "storage.credentials_json is not a service account key (JSON as downloaded from IAM)"
                ) from None
            project = config.project or info.get("project_id")
        else:
            self.identity = "the machine's identity (Application Default Credentials: the service account)"
            credentials = None
            project = config.project
        try:
            self.client = storage.Client(project=project, credentials=credentials, client_options=options)
        except DefaultCredentialsError:
            raise ConfigError(self._no_credentials("open")) from None
        self.bucket = self.client.bucket(self.bucket_name)

    def _no_credentials(self, action: str) -> str:
        return (
            f"cannot {action} {self.url}: no Google credentials found; run on a VM or workload with a service "
            "account, set GOOGLE_APPLICATION_CREDENTIALS, or give storage.credentials_json as ${secret:NAME}"
        )

    @contextmanager
    def _errors(self, action: str, name: str = "", missing: str | None = None) -> Iterator[None]:
        """SDK errors as messages naming the bucket, the object and the fix."""
        what = f"gs://{self.bucket_name}/{name}" if name else self.url
        try:
            yield
        except api.NotFound as exc:
            if missing is not None and "bucket" not in str(exc.message).lower():
                raise FileNotFoundError(
                    f"nothing stored under {missing} in {self.url} (bucket {self.bucket_name})"
                ) from None
            raise ConfigError(
                f"cannot {action} {what}: the GCS bucket {self.bucket_name} does not exist; create it or correct "
                "storage.bucket in project.yaml"
            ) from None
        except (api.Forbidden, api.Unauthorized) as exc:
            raise ConfigError(
                f"cannot {action} {what}: access denied for {self.identity}: {exc.message}; grant it {PERMISSIONS}"
            ) from None
        except (DefaultCredentialsError, RefreshError):
            raise ConfigError(self._no_credentials(action)) from None
        except (api.ServiceUnavailable, api.InternalServerError, api.TooManyRequests, ConnectionError) as exc:
            raise TransientError(f"cannot {action} {what}: {exc}") from None
        except api.GoogleAPICallError as exc:
            raise ConfigError(f"cannot {action} {what}: {exc.message}") from None

    def _put(self, name: str, path: Path) -> None:
        with self._errors("upload to", name):
            blob = self.bucket.blob(name, chunk_size=CHUNK_SIZE)
            blob.upload_from_filename(str(path), retry=DEFAULT_RETRY)  # an overwrite of the same bytes: safe

    def _list(self, name_prefix: str) -> Iterator[StoredObject]:
        with self._errors("list", name_prefix):
            for blob in self.client.list_blobs(self.bucket_name, prefix=name_prefix):
                yield StoredObject(blob.name, blob.updated.timestamp() if blob.updated else 0.0)

    def _open(self, name: str, key: str) -> BinaryIO:
        with self._errors("read", name, missing=key):
            blob = self.bucket.blob(name)
            blob.reload()  # absent objects fail here, not at the first read
            return cast(BinaryIO, blob.open("rb", chunk_size=READ_CHUNK))

    def _delete(self, names: list[str]) -> None:
        with self._errors("delete from", names[0]):
            self.bucket.delete_blobs(names, on_error=lambda blob: None)  # already gone: fine

    def _uri(self, name: str) -> str:
        return f"gs://{self.bucket_name}/{name}"
