"""AWS Secrets Manager through boto3: look-ups, and the store for credentials Headrace creates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headrace.errors import ConfigError, TransientError
from headrace.secrets.aws import AwsSecretsConfig
from headrace.secrets.base import SecretBackend, keep_secret
from headrace.secrets.naming import store_name
from headrace.secretstore import SecretStore

ALLOWED = "A-Za-z0-9/_+=.@-"  # what Secrets Manager allows in a secret's name
_DENIED = {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException"}
_TRANSIENT = {"ThrottlingException", "InternalServiceError", "ServiceUnavailable", "RequestTimeout"}


def _client(config: AwsSecretsConfig) -> Any:
    from boto3.session import Session

    return Session().client("secretsmanager", region_name=config.region, endpoint_url=config.endpoint_url)


class AwsBackend(SecretBackend):
    def __init__(self, config: AwsSecretsConfig, project_dir: Path | None = None, environ: Any = None):
        self.config = config
        self.client = _client(config)

    @property
    def region(self) -> str:
        return str(self.client.meta.region_name)

    def where(self, name: str) -> str:
        return f"{self.config.prefix}{name}"

    def _error(self, exc: Exception, name: str, secret_id: str, action: str) -> Exception:
        from botocore.exceptions import ClientError, NoCredentialsError

        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
        here = f"AWS Secrets Manager (region {self.region})"
        if isinstance(exc, NoCredentialsError):
            return ConfigError(
                f"secret {name!r}: no AWS credentials on this machine for {here}: run on an instance with an "
                "instance profile, or set AWS_PROFILE / the AWS_* variables"
            )
        if code == "ResourceNotFoundException":
            return ConfigError(
                f"secret {name!r}: {here} has no secret named {secret_id!r}: create it "
                f"(aws secretsmanager create-secret --name {secret_id} --secret-string ...) "
                f"or fix secrets.prefix in project.yaml"
            )
        if code in _DENIED:
            detail = exc.response.get("Error", {}).get("Message", "") if isinstance(exc, ClientError) else ""
            return ConfigError(
                f"secret {name!r}: {here} refused {action} on {secret_id!r} ({code}: {detail}): grant the "
                f"machine's identity secretsmanager:{action} on it"
            )
        if code in _TRANSIENT or not code:
            return TransientError(f"secret {name!r}: {here} did not answer ({type(exc).__name__}: {code or exc})")
        return ConfigError(f"secret {name!r}: {here} refused {action} on {secret_id!r}: {code}")

    def fetch(self, name: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        secret_id = self.where(name)
        try:
            answer = self.client.get_secret_value(SecretId=secret_id)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, name, secret_id, "GetSecretValue") from None
        if "SecretString" in answer:
            return answer["SecretString"]
        return answer["SecretBinary"].decode("utf-8")

    def store(self) -> SecretStore:
        return AwsSecretStore(self)


class AwsSecretStore(SecretStore):
    """Headrace-created credentials as secrets ``<prefix><name>`` (tagged ``headrace=created``)."""

    def __init__(self, backend: AwsBackend):
        self.backend = backend
        self.client = backend.client

    def _id(self, name: str) -> str:
        return self.backend.where(store_name(name, ALLOWED))

    def read(self, name: str) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        secret_id = self._id(name)
        try:
            value = self.client.get_secret_value(SecretId=secret_id)["SecretString"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise self.backend._error(exc, name, secret_id, "GetSecretValue") from None
        except BotoCoreError as exc:
            raise self.backend._error(exc, name, secret_id, "GetSecretValue") from None
        keep_secret(value)
        return value

    def write(self, name: str, value: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        keep_secret(value)
        secret_id = self._id(name)
        try:
            try:
                self.client.put_secret_value(SecretId=secret_id, SecretString=value)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                self.client.create_secret(
                    Name=secret_id,
                    SecretString=value,
                    Description="created by Headrace (a generated credential)",
                    Tags=[{"Key": "headrace", "Value": "created"}],
                )
        except (ClientError, BotoCoreError) as exc:
            raise self.backend._error(exc, name, secret_id, "PutSecretValue") from None

    def delete(self, name: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        secret_id = self._id(name)
        try:
            self.client.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return
            raise self.backend._error(exc, name, secret_id, "DeleteSecret") from None
        except BotoCoreError as exc:
            raise self.backend._error(exc, name, secret_id, "DeleteSecret") from None
