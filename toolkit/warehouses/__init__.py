"""Warehouses: one plugin (module or folder) per warehouse, opened through the registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from headrace.warehouses.base import Warehouse


def open_warehouse(config: BaseModel, state_dir: Path) -> Warehouse:
    """A warehouse for ``config``, a plugin's config model validated after secrets were resolved."""
    from headrace import plugins

    return plugins.get("warehouse", config.type).load()(config, state_dir)  # type: ignore[attr-defined]
