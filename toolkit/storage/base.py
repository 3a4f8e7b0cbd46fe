"""The storage interface: objects under keys such as ``raw/crm/orders/RUN/part-00000.csv.gz``.

A table extracted in one run is stored as a prefix holding its parts and ``schema.json``
(DESIGN §4). Extract publishes a finished local folder under a prefix; warehouses read
the parts either natively from ``uri(key)`` (when their capabilities list the storage's
scheme) or as streams from ``open(key)``. Nothing copies a whole table to local disk to
load it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class StorageCapabilities:
    scheme: str  # URI scheme of ``uri()``: file, s3, gs, azure; warehouses pick their load path by it


class Storage(ABC):
    capabilities: StorageCapabilities
    url: str  # e.g. file:///srv/headrace/storage, s3://bucket/prefix (for messages)

    @abstractmethod
    def upload_folder(self, local: Path, key: str) -> None:
        """Publish the files of a finished local folder under ``key/``; readers never see it half-written."""

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Keys of the objects under ``prefix/``, sorted."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A binary stream of the object's bytes; ``FileNotFoundError`` naming the key when absent."""

    @abstractmethod
    def uri(self, key: str) -> str:
        """The object's native URI (``file:///...``, ``s3://bucket/...``), as a warehouse loads it."""

    @abstractmethod
    def delete(self, prefix: str) -> None:
        """Remove every object under ``prefix/`` (nothing if there is none)."""

    def folders(self, prefix: str) -> list[str]:
        """Names of the folders directly under ``prefix/`` (a table's run folders), sorted."""
        names = {key[len(prefix) + 1 :].split("/", 1)[0] for key in self.list(prefix) if "/" in key[len(prefix) + 1 :]}
        return sorted(names)

    def stale_uploads(self, prefix: str, before: float) -> list[str]:
        """Keys of unfinished uploads under ``prefix/`` untouched since ``before`` (epoch seconds):
        what a killed upload left. Storages whose uploads are atomic have none."""
        return []

    def read_bytes(self, key: str) -> bytes:
        """A small object (``schema.json``) in one piece."""
        with self.open(key) as stream:
            return stream.read()
