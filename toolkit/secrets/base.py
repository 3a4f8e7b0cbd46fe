"""What a secrets backend is: the ``secrets:`` block of ``project.yaml`` names one (plugin kind ``secrets``).

A backend looks one ``${secret:NAME}`` up (``fetch``); cloud backends also keep the
credentials Headrace creates (``store``: a ``SecretStore`` over the same secret manager).
Its capabilities record says, as data, whether a look-up goes over the network
(``remote``): a parent process (``headrace run``, the Airflow operator) never looks those
up itself; it learns the values its task fetched through the mask channel
(``headrace.secrets.maskline``) and redacts them from what it shows.

Values are fetched only when a task resolves a reference, at first use, and cached in
that process (``cached``); validation, compilation and DAG parsing never open a backend.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headrace.secretstore import SecretStore


@dataclass(frozen=True)
class SecretsCapabilities:
    remote: bool  # a look-up is a network call (often a paid one): parents never repeat it
    writes: bool  # ``store()`` keeps Headrace-created credentials in this backend


class SecretBackend(ABC):
    """One source of ``${secret:NAME}`` values; raise ``ConfigError`` for a missing or refused one."""

    @abstractmethod
    def fetch(self, name: str) -> str:
        """The value of ``name``; a ``ConfigError`` naming the backend, what was looked up and the fix
        when it is missing or refused (never the value)."""

    def where(self, name: str) -> str:
        """What ``name`` is looked up as (the resource name), for messages and docs."""
        return name

    def store(self) -> SecretStore | None:
        """Where Headrace-created credentials go in this backend; None: the local file."""
        return None


class Cached:
    """``fetch`` at most once per name in this process (a task process: values die with it)."""

    def __init__(self, backend: SecretBackend):
        self.backend = backend
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()

    def fetch(self, name: str) -> tuple[str, bool]:
        """(value, whether it was fetched now rather than taken from the cache)."""
        with self._lock:
            if name in self._values:
                return self._values[name], False
            value = self.backend.fetch(name)
            self._values[name] = value
            return value, True


def keep_secret(value: str) -> None:
    """A value a remote store read or wrote: redacted here, and by the parent (mask channel)."""
    from headrace.redaction import remember
    from headrace.secrets import maskline

    remember(value)
    maskline.report(value)
