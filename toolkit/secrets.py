"""``${secret:NAME}`` and ``${env:NAME}``: resolved only when a task runs, never written out.

Secrets come from environment variables ``HEADRACE_SECRET_<NAME>`` (upper case) or from a
git-ignored YAML file of ``name: value`` pairs (``.secrets.yaml`` in the project, or the
file named by ``HEADRACE_SECRETS_FILE``). Every value resolved is remembered so that
``redact`` can blank it out of anything printed or stored.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import yaml
from headrace.errors import ConfigError

SECRET_REF = re.compile(r"\$\{(secret|env):([A-Za-z_][A-Za-z0-9_]*)\}")
_lock = threading.Lock()
_known_values: set[str] = set()
MIN_REDACT = 3


def _remember(value: str) -> None:
    if len(value) >= MIN_REDACT:
        with _lock:
            _known_values.add(value)


def redact(text: str) -> str:
    """Replace every resolved secret value in ``text`` with ``***``."""
    with _lock:
        values = sorted(_known_values, key=len, reverse=True)
    for value in values:
        text = text.replace(value, "***")
    return text


class SecretResolver:
    def __init__(self, project_dir: Path, environ: dict[str, str] | None = None):
        self.environ = dict(os.environ if environ is None else environ)
        path = self.environ.get("HEADRACE_SECRETS_FILE") or str(project_dir / ".secrets.yaml")
        self.file = Path(path)
        self._file_values: dict[str, str] | None = None

    def _from_file(self) -> dict[str, str]:
        if self._file_values is None:
            self._file_values = {}
            if self.file.is_file():
                data = yaml.safe_load(self.file.read_text(encoding="utf-8")) or {}
                if not isinstance(data, dict):
                    raise ConfigError(f"{self.file}: expected name: value pairs")
                self._file_values = {str(k): str(v) for k, v in data.items()}
                for value in self._file_values.values():
                    _remember(value)
        return self._file_values

    def secret(self, name: str) -> str:
        env_name = f"HEADRACE_SECRET_{name.upper()}"
        if env_name in self.environ:
            value = self.environ[env_name]
        elif name in self._from_file():
            value = self._from_file()[name]
        else:
            raise ConfigError(f"secret {name!r} is not set: export {env_name}=... or add '{name}: ...' to {self.file}")
        _remember(value)
        return value

    def env(self, name: str) -> str:
        if name not in self.environ:
            raise ConfigError(f"environment variable {name} is not set (referenced as ${{env:{name}}})")
        return self.environ[name]

    def resolve(self, value: Any) -> Any:
        """Resolve references inside strings, recursively through dicts and lists."""
        if isinstance(value, str):
            return SECRET_REF.sub(
                lambda m: self.secret(m.group(2)) if m.group(1) == "secret" else self.env(m.group(2)), value
            )
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value
