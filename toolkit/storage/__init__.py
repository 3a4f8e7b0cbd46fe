"""Object storage for table files: one module per storage, chosen by ``open_storage``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.storage.base import Storage


def open_storage(config: dict[str, Any], state_dir: Path) -> Storage:
    """The storage for the manifest's ``storage`` mapping."""
    kind = config.get("type")
    if kind == "local":
        from headrace.storage.local import LocalStorage

        return LocalStorage(config, state_dir)
    raise ValueError(f"storage type {kind!r} is not available")
