"""The storage interface: folders of table files under keys such as ``raw/crm/orders/RUN``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Storage(ABC):
    url: str  # e.g. file:///srv/headrace/storage, s3://bucket/prefix

    @abstractmethod
    def upload_folder(self, local: Path, key: str) -> None:
        """Publish a finished local folder under ``key``; readers never see it half-written."""

    @abstractmethod
    @contextmanager
    def local_folder(self, key: str) -> Iterator[Path]:
        """A local folder holding the files under ``key`` (downloaded if remote)."""
