"""The secret store: where credentials that Headrace creates are kept (datamart readers, sandboxes).

One interface, ``SecretStore`` (read, write and delete one named secret). Where they go
follows the project's secrets backend (``secrets:`` in project.yaml, docs/secrets.md): a
backend that writes (``aws``, ``gcp``, ``azure``: its capabilities say ``writes``) keeps
them in the cloud's secret manager; the others (``env``, ``airflow``) in the local file.
``HEADRACE_SECRET_STORE=local`` forces the local file (``project``, the default, follows the
project).

``local`` (the default) is a YAML file of ``name: value`` pairs, ``credentials.yaml`` in
the state directory (``<project>/.headrace`` or ``HEADRACE_STATE_DIR``; git-ignored),
readable by its owner only (mode 0600) and replaced atomically on every write (a
temporary file in the same folder, then a rename), under a lock so that parallel tasks
never lose each other's writes. Values read from it are redacted from all output, like
every other secret.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from headrace.errors import ConfigError
from headrace.redaction import remember

LOCAL_FILE = "credentials.yaml"


class SecretStore(ABC):
    @abstractmethod
    def read(self, name: str) -> str | None:
        """The secret ``name``, or None if the store has none."""

    @abstractmethod
    def write(self, name: str, value: str) -> None:
        """Store ``value`` as ``name`` (replacing what was there); ``value`` is redacted from now on."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Forget ``name`` (nothing happens if it is not there)."""


class LocalSecretStore(SecretStore):
    """A git-ignored YAML file of ``name: value`` pairs, mode 0600, replaced atomically."""

    def __init__(self, path: Path):
        self.path = path

    def _read_all(self) -> dict[str, str]:
        from headrace.secrets import read_secrets_file

        return read_secrets_file(self.path) if self.path.is_file() else {}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _replace(self, values: dict[str, str]) -> None:
        import yaml

        text = yaml.safe_dump(values, default_flow_style=False, allow_unicode=True, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("# written by Headrace: generated credentials; keep this file private\n" + text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, name: str) -> str | None:
        return self._read_all().get(name)

    def write(self, name: str, value: str) -> None:
        remember(value)  # a credential is a secret: redacted from this process's output from now on
        with self._locked():
            values = self._read_all()
            values[name] = value
            self._replace(values)

    def delete(self, name: str) -> None:
        with self._locked():
            values = self._read_all()
            if values.pop(name, None) is not None:
                self._replace(values)


STORE_ENV = "HEADRACE_SECRET_STORE"
STORE_CHOICES = ("project", "local")


def open_secret_store(state_dir: Path, store_type: str | None = None) -> SecretStore:
    """Where this process keeps the credentials it creates (see the module docstring)."""
    name = store_type or os.environ.get(STORE_ENV) or "project"
    if name not in STORE_CHOICES:
        raise ConfigError(f"{STORE_ENV}={name!r} is not a secret store choice; use one of {', '.join(STORE_CHOICES)}")
    if name == "project":
        from headrace.secrets.backends import project_backend

        backend = project_backend(writing=True)
        store = backend.backend.store() if backend is not None else None
        if store is not None:
            return store
    return LocalSecretStore(state_dir / LOCAL_FILE)
