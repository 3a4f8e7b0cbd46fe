"""GCP Secret Manager over its REST transport: look-ups, and the store for credentials Headrace creates."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from headrace.errors import ConfigError, TransientError
from headrace.secrets.base import SecretBackend, keep_secret
from headrace.secrets.gcp import GcpSecretsConfig
from headrace.secrets.naming import store_name
from headrace.secretstore import SecretStore

ALLOWED = "A-Za-z0-9_-"  # what Secret Manager allows in a secret id


def _identity(credentials: Any) -> str:
    email = getattr(credentials, "service_account_email", None) or getattr(credentials, "signer_email", None)
    return f"the machine's identity ({email})" if email else "the machine's identity"


class GcpBackend(SecretBackend):
    def __init__(self, config: GcpSecretsConfig, project_dir: Path | None = None, environ: Any = None):
        import google.auth
        import google.auth.exceptions
        from google.api_core.client_options import ClientOptions
        from google.cloud import secretmanager

        self.config = config
        try:
            credentials, default_project = google.auth.default(
                scopes=["https://www.googleapis.com/auth/cloud-platform"]
            )
        except google.auth.exceptions.DefaultCredentialsError as exc:
            raise ConfigError(
                f"secrets (gcp): no credentials on this machine ({exc}): run on a VM with a service account, "
                "or `gcloud auth application-default login`"
            ) from None
        project = config.project or default_project
        if not project:
            raise ConfigError("secrets (gcp): no GCP project: set secrets.project in project.yaml")
        self.project = project
        self.identity = _identity(credentials)
        options = ClientOptions(api_endpoint=config.api_endpoint) if config.api_endpoint else None
        self.client = secretmanager.SecretManagerServiceClient(
            credentials=credentials, transport="rest", client_options=options
        )

    def secret_path(self, secret_id: str) -> str:
        return f"projects/{self.project}/secrets/{secret_id}"

    def where(self, name: str) -> str:
        return f"{self.secret_path(self.config.prefix + name)}/versions/latest"

    def error(self, exc: Exception, name: str, resource: str, permission: str) -> Exception:
        from google.api_core import exceptions as gexc

        if isinstance(exc, gexc.NotFound):
            secret_id = resource.split("/")[3]
            return ConfigError(
                f"secret {name!r}: GCP Secret Manager has no {resource}: create it (gcloud secrets create "
                f"{secret_id} --project {self.project}, then gcloud secrets versions add) or fix secrets.prefix "
                "in project.yaml"
            )
        if isinstance(exc, gexc.PermissionDenied | gexc.Unauthenticated | gexc.Forbidden | gexc.Unauthorized):
            return ConfigError(
                f"secret {name!r}: GCP Secret Manager refused {resource} to {self.identity}: grant it "
                f"{permission} (e.g. roles/secretmanager.secretAccessor)"
            )
        if isinstance(exc, gexc.ServiceUnavailable | gexc.TooManyRequests | gexc.InternalServerError):
            return TransientError(f"secret {name!r}: GCP Secret Manager did not answer for {resource}: {exc.message}")
        return ConfigError(f"secret {name!r}: GCP Secret Manager refused {resource}: {type(exc).__name__}")

    def fetch(self, name: str) -> str:
        from google.api_core import exceptions as gexc

        resource = self.where(name)
        try:
            answer = self.client.access_secret_version(name=resource)
        except gexc.GoogleAPIError as exc:
            raise self.error(exc, name, resource, "secretmanager.versions.access") from None
        return answer.payload.data.decode("utf-8")

    def store(self) -> SecretStore:
        return GcpSecretStore(self)


class GcpSecretStore(SecretStore):
    """Headrace-created credentials as secrets ``<prefix><name>`` (label ``headrace=created``), one version each."""

    def __init__(self, backend: GcpBackend):
        self.backend = backend
        self.client = backend.client

    def _path(self, name: str) -> str:
        return self.backend.secret_path(self.backend.config.prefix + store_name(name, ALLOWED))

    def read(self, name: str) -> str | None:
        from google.api_core import exceptions as gexc

        resource = f"{self._path(name)}/versions/latest"
        try:
            value = self.client.access_secret_version(name=resource).payload.data.decode("utf-8")
        except gexc.NotFound:
            return None
        except gexc.GoogleAPIError as exc:
            raise self.backend.error(exc, name, resource, "secretmanager.versions.access") from None
        keep_secret(value)
        return value

    def write(self, name: str, value: str) -> None:
        from google.api_core import exceptions as gexc
        from google.cloud import secretmanager

        keep_secret(value)
        path = self._path(name)
        try:
            with contextlib.suppress(gexc.Conflict):  # it exists (AlreadyExists, or 409 over REST)
                self.client.create_secret(
                    parent=f"projects/{self.backend.project}",
                    secret_id=path.rsplit("/", 1)[1],
                    secret=secretmanager.Secret(replication={"automatic": {}}, labels={"headrace": "created"}),
                )
            payload = secretmanager.SecretPayload(data=value.encode("utf-8"))
            self.client.add_secret_version(parent=path, payload=payload)
        except gexc.GoogleAPIError as exc:
            raise self.backend.error(exc, name, path, "secretmanager.secrets.create and versions.add") from None

    def delete(self, name: str) -> None:
        from google.api_core import exceptions as gexc

        path = self._path(name)
        try:
            self.client.delete_secret(name=path)
        except gexc.NotFound:
            return
        except gexc.GoogleAPIError as exc:
            raise self.backend.error(exc, name, path, "secretmanager.secrets.delete") from None
