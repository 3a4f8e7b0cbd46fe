"""Object storage for table files: one plugin per storage, opened through the registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from headrace.storage.base import Storage


def open_storage(config: BaseModel, state_dir: Path) -> Storage:
    """The storage for ``config``, a plugin's config model validated after secrets were resolved."""
    from headrace import plugins

    return plugins.get("storage", config.type).load()(config, state_dir)  # type: ignore[attr-defined]
