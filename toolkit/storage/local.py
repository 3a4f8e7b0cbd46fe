"""A local folder as storage (laptops, tests, a single VM): plugin record, config and implementation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO, Literal
from urllib.parse import unquote, urlparse

from headrace.plugins import Plugin
from headrace.project.base import Deferred, Strict
from headrace.storage.base import Storage, StorageCapabilities

CAPABILITIES = StorageCapabilities(scheme="file")
INCOMING = ".incoming"  # a folder being published; renamed to its key when complete


def newest_change(folder: Path) -> float:
    """The latest modification time of ``folder`` and everything in it (a live writer keeps it recent)."""
    times = [folder.stat().st_mtime]
    for path in folder.rglob("*"):
        try:
            times.append(path.stat().st_mtime)
        except OSError:  # removed meanwhile
            continue
    return max(times)


class LocalStorageConfig(Strict):
    """A folder; relative paths are under the state directory (``.headrace/``)."""

    type: Literal["local"] = "local"
    path: Deferred[str] = "storage"


class LocalStorage(Storage):
    capabilities = CAPABILITIES

    def __init__(self, config: LocalStorageConfig, state_dir: Path):
        root = Path(config.path)
        self.root = (root if root.is_absolute() else state_dir / root).resolve()
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents and path != self.root:
            raise ValueError(f"storage key {key!r} leaves the storage folder")
        return path

    def upload_folder(self, local: Path, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(target.name + INCOMING)
        shutil.rmtree(staging, ignore_errors=True)
        if local.stat().st_dev != target.parent.stat().st_dev:
            shutil.copytree(local, staging)
        else:
            shutil.move(str(local), staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # atomic within one filesystem

    def list(self, prefix: str) -> list[str]:
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file())

    def folders(self, prefix: str) -> list[str]:
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.endswith(INCOMING))

    def stale_uploads(self, prefix: str, before: float) -> list[str]:
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        found = [p for p in folder.iterdir() if p.is_dir() and p.name.endswith(INCOMING)]
        return [p.relative_to(self.root).as_posix() for p in sorted(found) if newest_change(p) < before]

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(f"nothing stored under {key} in {self.url}")
        return path.open("rb")

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def delete(self, prefix: str) -> None:
        shutil.rmtree(self._path(prefix), ignore_errors=True)


def local_path(uri: str) -> Path:
    """The path of a ``file://`` URI (what a warehouse that reads files natively opens)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise ValueError(f"{uri} is not a file:// URI")
    return Path(unquote(parsed.path))


plugin = Plugin(
    "storage",
    "local",
    LocalStorageConfig,
    "headrace.storage.local:LocalStorage",
    CAPABILITIES,
    description="a folder on this machine (laptops, tests, a single VM)",
)
