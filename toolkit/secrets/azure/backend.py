"""Azure Key Vault: look-ups, and the store for credentials Headrace creates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headrace.errors import ConfigError, TransientError
from headrace.secrets.azure import AzureSecretsConfig, vault_name
from headrace.secrets.base import SecretBackend, keep_secret
from headrace.secrets.naming import store_name
from headrace.secretstore import SecretStore

ALLOWED = "A-Za-z0-9-"  # what Key Vault allows in a secret's name


class AzureBackend(SecretBackend):
    def __init__(self, config: AzureSecretsConfig, project_dir: Path | None = None, environ: Any = None):
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient

        self.config = config
        self.client = SecretClient(vault_url=config.vault_url, credential=DefaultAzureCredential())

    def where(self, name: str) -> str:
        return f"{self.config.vault_url.rstrip('/')}/secrets/{vault_name(self.config.prefix, name)}"

    def error(self, exc: Exception, name: str, secret: str, permission: str) -> Exception:
        from azure.core import exceptions as aexc

        where = f"{self.config.vault_url.rstrip('/')}/secrets/{secret}"
        if isinstance(exc, aexc.ResourceNotFoundError):
            return ConfigError(
                f"secret {name!r}: Azure Key Vault has no secret {where}: create it (az keyvault secret set "
                f"--vault-name <vault> --name {secret} --value ...) or fix secrets.prefix in project.yaml"
            )
        if isinstance(exc, aexc.ClientAuthenticationError):
            status = getattr(exc, "status_code", None)
            problem = "refused" if status == 403 else "could not authenticate for"
            return ConfigError(
                f"secret {name!r}: Azure Key Vault {problem} {where} (the machine's identity, DefaultAzureCredential: "
                f"{exc.message.splitlines()[0] if exc.message else type(exc).__name__}): give the identity "
                f"{permission} on the vault"
            )
        if isinstance(exc, aexc.HttpResponseError) and getattr(exc, "status_code", 0) == 403:
            said = " ".join((exc.message or "").split())  # Key Vault names the caller (appid, oid) and the action
            return ConfigError(
                f"secret {name!r}: Azure Key Vault refused {where} to the machine's identity ({said}): give it "
                f"{permission}"
            )
        if isinstance(exc, aexc.ServiceRequestError | aexc.ServiceResponseError) or (
            isinstance(exc, aexc.HttpResponseError) and (getattr(exc, "status_code", 0) or 0) >= 500
        ):
            return TransientError(f"secret {name!r}: Azure Key Vault did not answer for {where}")
        return ConfigError(f"secret {name!r}: Azure Key Vault refused {where}: {type(exc).__name__}")

    def fetch(self, name: str) -> str:
        from azure.core.exceptions import AzureError

        secret = vault_name(self.config.prefix, name)
        try:
            value = self.client.get_secret(secret).value
        except AzureError as exc:
            raise self.error(exc, name, secret, 'the "Key Vault Secrets User" role (secrets/get)') from None
        return value or ""

    def store(self) -> SecretStore:
        return AzureSecretStore(self)


class AzureSecretStore(SecretStore):
    """Headrace-created credentials as Key Vault secrets ``<prefix><name>`` (tag ``headrace=created``)."""

    OFFICER = 'the "Key Vault Secrets Officer" role'

    def __init__(self, backend: AzureBackend):
        self.backend = backend
        self.client = backend.client

    def _name(self, name: str) -> str:
        return self.backend.config.prefix + store_name(name, ALLOWED)

    def read(self, name: str) -> str | None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        secret = self._name(name)
        try:
            value = self.client.get_secret(secret).value or ""
        except ResourceNotFoundError:
            return None
        except AzureError as exc:
            raise self.backend.error(exc, name, secret, self.OFFICER) from None
        keep_secret(value)
        return value

    def write(self, name: str, value: str) -> None:
        from azure.core.exceptions import AzureError, ResourceExistsError

        keep_secret(value)
        secret = self._name(name)
        try:
            try:
                self.client.set_secret(secret, value, tags={"headrace": "created"})
            except ResourceExistsError:  # deleted but recoverable (soft delete): recover, then set
                self.client.begin_recover_deleted_secret(secret).wait()
                self.client.set_secret(secret, value, tags={"headrace": "created"})
        except AzureError as exc:
            raise self.backend.error(exc, name, secret, self.OFFICER) from None

    def delete(self, name: str) -> None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        secret = self._name(name)
        try:
            self.client.begin_delete_secret(secret).wait()
        except ResourceNotFoundError:
            return
        except AzureError as exc:
            raise self.backend.error(exc, name, secret, self.OFFICER) from None
