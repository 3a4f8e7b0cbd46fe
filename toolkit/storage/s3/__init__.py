"""Amazon S3 (and S3-compatible stores) as storage: config and plugin record.

boto3 is imported only when the storage opens (``headrace.storage.s3.storage``). Credentials
default to the machine's identity (boto3's chain: environment, ``AWS_PROFILE``, web identity,
ECS task role, EC2 instance profile); explicit keys are optional and only ``${secret:NAME}``.
"""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import SecretOnly, Strict, Text
from headrace.storage.base import StorageCapabilities
from pydantic import Field, model_validator

CAPABILITIES = StorageCapabilities(scheme="s3")


class S3StorageConfig(Strict):
    """An S3 bucket; objects go under ``prefix/``."""

    type: Literal["s3"]
    bucket: Text
    prefix: Text = Field("", description="folder in the bucket under which Headrace keeps its objects")
    region: Text | None = Field(None, description="the bucket's region (default: the SDK's, e.g. AWS_REGION)")
    endpoint_url: Text | None = Field(None, description="an S3-compatible endpoint (MinIO, an emulator)")
    access_key_id: SecretOnly | None = Field(None, description="leave out to use the machine's identity")
    secret_access_key: SecretOnly | None = None
    session_token: SecretOnly | None = None

    @model_validator(mode="after")
    def _keys_in_pairs(self) -> S3StorageConfig:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither (the machine's identity)")
        if self.session_token is not None and self.access_key_id is None:
            raise ValueError("session_token needs access_key_id and secret_access_key")
        return self


plugin = Plugin(
    "storage",
    "s3",
    S3StorageConfig,
    "headrace.storage.s3.storage:S3Storage",
    CAPABILITIES,
    description="an Amazon S3 bucket (or an S3-compatible store through endpoint_url)",
    extra="s3",
    requires=("boto3",),
)
