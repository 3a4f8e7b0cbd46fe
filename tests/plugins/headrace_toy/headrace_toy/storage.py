"""The toy storage: every object is a file named by the SHA-256 of its key, plus a ``.key`` file naming it.

Nothing here is a folder layout a warehouse could read by path, and its URIs (``toy://HASH``)
name no scheme a warehouse loads natively: loads must stream the parts through ``open``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import BinaryIO

from headrace.storage.base import Storage

from headrace_toy.config import CAPABILITIES, ToyStorageConfig

SCHEMA_FILE = "schema.json"


def _name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ToyStorage(Storage):
    capabilities = CAPABILITIES

    def __init__(self, config: ToyStorageConfig, state_dir: Path) -> None:
        root = Path(config.path)
        self.root = root if root.is_absolute() else state_dir / root
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = f"toy://{self.root}"

    def _put(self, key: str, source: Path) -> None:
        name = _name(key)
        tmp = self.root / f".{name}.incoming"
        shutil.copyfile(source, tmp)
        os.replace(tmp, self.root / name)
        (self.root / f"{name}.key").write_text(key)

    def upload_folder(self, local: Path, key: str) -> None:
        files = sorted(p for p in local.rglob("*") if p.is_file())
        # schema.json last: a reader starts from it, so it never sees a table half-written
        for path in sorted(files, key=lambda p: p.name == SCHEMA_FILE):
            self._put(f"{key}/{path.relative_to(local).as_posix()}", path)

    def list(self, prefix: str) -> list[str]:
        keys = (p.read_text() for p in self.root.glob("*.key"))
        return sorted(k for k in keys if k.startswith(prefix.rstrip("/") + "/"))

    def open(self, key: str) -> BinaryIO:
        path = self.root / _name(key)
        if not path.is_file():
            raise FileNotFoundError(f"nothing stored under {key} in {self.url}")
        return path.open("rb")

    def uri(self, key: str) -> str:
        return f"toy://{_name(key)}"

    def delete(self, prefix: str) -> None:
        for key in self.list(prefix):
            name = _name(key)
            (self.root / name).unlink(missing_ok=True)
            (self.root / f"{name}.key").unlink(missing_ok=True)
