"""``secrets: {type: azure}``: Azure Key Vault (azure-keyvault-secrets, imported only when used).

Key Vault names allow only letters, digits and dashes and ignore case, so
``${secret:crm_password}`` is the secret ``<prefix>crm-password`` (lower case, ``_`` as
``-``; default prefix ``headrace-``): two names that differ only in case or in ``_``/``-``
are one Key Vault secret. Credentials come from the machine's identity
(``DefaultAzureCredential``: managed identity on a VM); it needs the "Key Vault Secrets
User" role (and "Key Vault Secrets Officer" for the datamart reader passwords Headrace creates).
"""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Deferred, Strict
from headrace.secrets.base import SecretsCapabilities
from pydantic import Field


class AzureSecretsConfig(Strict):
    """Azure Key Vault, with the machine's identity."""

    type: Literal["azure"]
    vault_url: Deferred[str] = Field(description="https://<vault>.vault.azure.net")
    prefix: str = Field(
        "headrace-", pattern=r"^[A-Za-z0-9-]*$", description="prepended to every secret name (letters, digits, -)"
    )


def vault_name(prefix: str, name: str) -> str:
    """The Key Vault secret a ``${secret:NAME}`` is looked up as."""
    return (prefix + name.replace("_", "-")).lower()


plugin = Plugin(
    "secrets",
    "azure",
    AzureSecretsConfig,
    "headrace.secrets.azure.backend:AzureBackend",
    SecretsCapabilities(remote=True, writes=True),
    description="Azure Key Vault (<prefix><name>, _ as -); created credentials are kept there too",
    extra="azure",
    requires=("azure.keyvault.secrets", "azure.identity"),
)
