"""``secrets: {type: gcp}``: GCP Secret Manager (google-cloud-secret-manager, imported only when used).

``${secret:crm_password}`` is ``projects/<project>/secrets/<prefix>crm_password/versions/latest``
(default prefix ``headrace-``). Credentials come from the machine's identity (the VM's
service account, or Application Default Credentials); it needs
``roles/secretmanager.secretAccessor`` (and ``roles/secretmanager.admin`` on ``<prefix>*``
secrets for the datamart reader passwords Headrace creates).
"""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Deferred, Strict
from headrace.secrets.base import SecretsCapabilities
from pydantic import Field


class GcpSecretsConfig(Strict):
    """GCP Secret Manager, with the machine's identity."""

    type: Literal["gcp"]
    project: Deferred[str] | None = Field(None, description="GCP project id (default: the credentials' project)")
    prefix: str = Field(
        "headrace-", pattern=r"^[A-Za-z0-9_-]*$", description="prepended to every secret id (${secret:x} -> <prefix>x)"
    )
    api_endpoint: Deferred[str] | None = Field(
        None, description="another endpoint (a regional or private one, a test server); REST transport"
    )


plugin = Plugin(
    "secrets",
    "gcp",
    GcpSecretsConfig,
    "headrace.secrets.gcp.backend:GcpBackend",
    SecretsCapabilities(remote=True, writes=True),
    description="GCP Secret Manager (<prefix><name>, latest version); created credentials are kept there too",
    extra="gcp",
    requires=("google.cloud.secretmanager",),
)
