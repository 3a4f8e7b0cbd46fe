"""Warehouses: one module per warehouse, opened by ``open_warehouse`` (drivers load lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.warehouses.base import Warehouse

MODULES = {"duckdb": "headrace.warehouses.duckdb", "postgres": "headrace.warehouses.postgres"}


def open_warehouse(config: dict[str, Any], state_dir: Path) -> Warehouse:
    """A warehouse for the resolved ``config`` (secrets already substituted)."""
    import importlib

    kind = config.get("type")
    if kind not in MODULES:
        raise ValueError(f"warehouse type {kind!r} is not available; known: {', '.join(MODULES)}")
    return importlib.import_module(MODULES[kind]).open(config, state_dir)
