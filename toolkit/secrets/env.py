"""``secrets: {type: env}`` (the default): environment variables, then the local secrets file.

``${secret:crm_password}`` is ``HEADRACE_SECRET_CRM_PASSWORD`` if set, else ``crm_password``
in ``.secrets.yaml`` (or the file ``HEADRACE_SECRETS_FILE`` names). Credentials Headrace
creates go to the local store (``headrace.secretstore``, mode 0600).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from headrace.errors import ConfigError
from headrace.plugins import Plugin
from headrace.project.base import Strict
from headrace.secrets import ENV_PREFIX
from headrace.secrets.base import SecretBackend, SecretsCapabilities


class EnvSecretsConfig(Strict):
    """Secrets from HEADRACE_SECRET_<NAME> environment variables or the git-ignored .secrets.yaml."""

    type: Literal["env"] = "env"


class EnvBackend(SecretBackend):
    def __init__(self, config: EnvSecretsConfig, project_dir: Path, environ: dict[str, str]):
        self.environ = environ
        self.file = Path(environ.get("HEADRACE_SECRETS_FILE") or str(project_dir / ".secrets.yaml"))
        self._file_values: dict[str, str] | None = None

    def _from_file(self) -> dict[str, str]:
        from headrace.secrets import read_secrets_file

        if self._file_values is None:
            self._file_values = read_secrets_file(self.file) if self.file.is_file() else {}
        return self._file_values

    def where(self, name: str) -> str:
        return f"{ENV_PREFIX}{name.upper()}"

    def fetch(self, name: str) -> str:
        env_name = self.where(name)
        if env_name in self.environ:
            return self.environ[env_name]
        if name in self._from_file():
            return self._from_file()[name]
        raise ConfigError(f"secret {name!r} is not set: export {env_name}=... or add '{name}: ...' to {self.file}")


plugin = Plugin(
    "secrets",
    "env",
    EnvSecretsConfig,
    "headrace.secrets.env:EnvBackend",
    SecretsCapabilities(remote=False, writes=False),
    description="HEADRACE_SECRET_<NAME> environment variables, then .secrets.yaml; created credentials: local file",
)
