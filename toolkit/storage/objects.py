"""What every object store (S3, GCS, Azure Blob) shares: keys under a prefix, a table folder
published part by part with ``schema.json`` last, complete and unfinished folders told apart.

An object store has no atomic rename of a folder, so ``schema.json`` is the commit marker:
a run folder is complete once it exists (``runner.stored_table`` reads it first), and
``folders()`` lists only complete folders. A folder without it is an upload in progress,
or what a killed one left: ``stale_uploads()`` reports it once untouched since ``before``
and the sweep deletes it. A backend implements the five primitives at the bottom.
"""

from __future__ import annotations

import io
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from headrace.storage.base import Storage
from headrace.tablefiles import SCHEMA_FILE

COMMIT_MARKER = SCHEMA_FILE  # uploaded last, deleted first


@dataclass(frozen=True)
class StoredObject:
    name: str  # the object's full name in the bucket (prefix included)
    modified: float  # epoch seconds


def clean_prefix(prefix: str) -> str:
    """``prefix`` without surrounding slashes; ``..`` is refused (it could only confuse readers)."""
    parts = [p for p in prefix.strip().split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"storage prefix {prefix!r} may not contain '.' or '..'")
    return "/".join(parts)


def check_key(key: str) -> str:
    """A relative key under the storage's prefix, or ValueError (as local storage refuses keys leaving its folder)."""
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError(f"storage key {key!r} must be a relative key such as raw/<extractor>/<table>/<run>")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"storage key {key!r} leaves the storage prefix or has an empty segment")
    return key


class ChunkReader(io.RawIOBase):
    """A readable stream over an iterator of byte chunks (a download read chunk by chunk)."""

    def __init__(self, chunks: Iterable[bytes], on_close: object = None):
        self._chunks: Iterator[bytes] = iter(chunks)
        self._left = b""
        self._on_close = on_close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = bytes(chunk)
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n

    def close(self) -> None:
        if callable(self._on_close):
            self._on_close()
        super().close()


class ObjectStorage(Storage):
    """The Storage interface over an object store's primitives; ``prefix`` is set by the backend."""

    prefix: str = ""
    where: str = ""  # e.g. "bucket my-bucket": named by every error

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _key(self, name: str) -> str:
        return name[len(self.prefix) + 1 :] if self.prefix else name

    def _objects(self, prefix: str) -> list[StoredObject]:
        return list(self._list(self._name(prefix.rstrip("/")) + "/"))

    def upload_folder(self, local: Path, key: str) -> None:
        """Each file streamed in chunks; ``schema.json`` last, so readers never see a half-written table.

        What an earlier attempt at the same key left is removed first (its marker before its parts).
        """
        self.delete(key)
        files = sorted(p for p in local.rglob("*") if p.is_file())
        marker = [p for p in files if p.relative_to(local).as_posix() == COMMIT_MARKER]
        for path in [p for p in files if p not in marker] + marker:
            self._put(self._name(f"{key}/{path.relative_to(local).as_posix()}"), path)

    def list(self, prefix: str) -> list[str]:
        return sorted(self._key(o.name) for o in self._objects(prefix))

    def open(self, key: str) -> BinaryIO:
        return self._open(self._name(key), key)

    def uri(self, key: str) -> str:
        return self._uri(self._name(key))

    def delete(self, prefix: str) -> None:
        names = [o.name for o in self._objects(prefix)]
        markers = [n for n in names if n.endswith("/" + COMMIT_MARKER)]
        if markers:  # readers stop seeing the table before its parts go
            self._delete(markers)
        rest = [n for n in names if n not in set(markers)]
        if rest:
            self._delete(rest)

    def _by_folder(self, prefix: str) -> dict[str, list[StoredObject]]:
        base = self._name(prefix.rstrip("/")) + "/"
        folders: dict[str, list[StoredObject]] = {}
        for obj in self._list(base):
            folder, sep, _ = obj.name[len(base) :].partition("/")
            if sep:
                folders.setdefault(folder, []).append(obj)
        return folders

    def folders(self, prefix: str) -> list[str]:
        """Complete run folders only: those whose ``schema.json`` exists."""
        found = self._by_folder(prefix)
        return sorted(f for f, objs in found.items() if any(o.name.endswith(f"/{f}/{COMMIT_MARKER}") for o in objs))

    def stale_uploads(self, prefix: str, before: float) -> list[str]:
        """Run folders without ``schema.json`` whose newest object is older than ``before``."""
        stale = []
        for folder, objs in sorted(self._by_folder(prefix).items()):
            complete = any(o.name.endswith(f"/{folder}/{COMMIT_MARKER}") for o in objs)
            if not complete and max(o.modified for o in objs) < before:
                stale.append(f"{prefix.rstrip('/')}/{folder}")
        return stale

    # the primitives a backend implements (names are full object names, prefix included)
    @abstractmethod
    def _put(self, name: str, path: Path) -> None:
        """Upload a local file, streamed in chunks (multipart/resumable/blocks); overwrite."""

    @abstractmethod
    def _list(self, name_prefix: str) -> Iterator[StoredObject]:
        """Every object whose name starts with ``name_prefix``."""

    @abstractmethod
    def _open(self, name: str, key: str) -> BinaryIO:
        """A stream of the object; FileNotFoundError naming ``key`` and the bucket when absent."""

    @abstractmethod
    def _delete(self, names: list[str]) -> None:
        """Delete these objects (absent ones are no error)."""

    @abstractmethod
    def _uri(self, name: str) -> str:
        """The native URI a warehouse loads the object from."""
