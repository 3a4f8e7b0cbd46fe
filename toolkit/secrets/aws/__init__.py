"""``secrets: {type: aws}``: AWS Secrets Manager (boto3, imported only when a secret is fetched).

``${secret:crm_password}`` is the secret ``<prefix>crm_password`` (default prefix
``headrace/``), its ``SecretString``. Credentials come from the machine's identity (the
instance profile, or boto3's default chain); the identity needs
``secretsmanager:GetSecretValue`` on ``<prefix>*`` (and ``CreateSecret``, ``PutSecretValue``,
``DeleteSecret`` there for the datamart reader passwords Headrace creates).
"""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Deferred, Strict
from headrace.secrets.base import SecretsCapabilities
from pydantic import Field


class AwsSecretsConfig(Strict):
    """AWS Secrets Manager, with the machine's identity."""

    type: Literal["aws"]
    region: Deferred[str] | None = Field(None, description="AWS region (default: the machine's, from boto3)")
    prefix: str = Field("headrace/", description="prepended to every secret name (${secret:x} -> <prefix>x)")
    endpoint_url: Deferred[str] | None = Field(None, description="another endpoint (a VPC endpoint, an emulator)")


plugin = Plugin(
    "secrets",
    "aws",
    AwsSecretsConfig,
    "headrace.secrets.aws.backend:AwsBackend",
    SecretsCapabilities(remote=True, writes=True),
    description="AWS Secrets Manager (<prefix><name>); created credentials are kept there too",
    extra="aws",
    requires=("boto3",),
)
