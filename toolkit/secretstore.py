"""The secret store: where credentials that Headrace creates are kept (datamart readers, sandboxes).

One interface, ``SecretStore`` (read, write and delete one named secret), and its backends
in ``BACKENDS``: the place to add one (cloud secret managers come as further entries).

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
from collections.abc import Callable, Iterator
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


def _local(state_dir: Path) -> SecretStore:
    return LocalSecretStore(state_dir / LOCAL_FILE)


# store type -> factory(state_dir); the only place a backend is added
BACKENDS: dict[str, Callable[[Path], SecretStore]] = {"local": _local}


def open_secret_store(state_dir: Path, store_type: str | None = None) -> SecretStore:
    """The configured secret store (``HEADRACE_SECRET_STORE``, default ``local``)."""
    name = store_type or os.environ.get("HEADRACE_SECRET_STORE") or "local"
    if name not in BACKENDS:
        raise ConfigError(f"HEADRACE_SECRET_STORE={name!r} is not a secret store; known: {', '.join(sorted(BACKENDS))}")
    return BACKENDS[name](state_dir)
