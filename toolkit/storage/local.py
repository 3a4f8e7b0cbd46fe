"""A local folder as storage (laptops, tests, a single VM)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from headrace.storage.base import Storage


class LocalStorage(Storage):
    def __init__(self, config: dict[str, Any], state_dir: Path):
        root = Path(config.get("path") or "storage")
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
        staging = target.with_name(target.name + ".incoming")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(local, staging) if local.stat().st_dev != target.parent.stat().st_dev else shutil.move(
            str(local), staging
        )
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # atomic within one filesystem

    @contextmanager
    def local_folder(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_dir():
            raise FileNotFoundError(f"nothing stored under {key} in {self.url}")
        yield path
