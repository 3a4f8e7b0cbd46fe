"""Extractor types by name, imported lazily."""

from __future__ import annotations

import importlib
from types import ModuleType

TYPES: dict[str, str] = {
    "file": "headrace.extractors.files.extractor",
    "postgres": "headrace.extractors.postgres.extractor",
}


def load(type_name: str) -> ModuleType:
    """The module implementing ``type_name`` (has ``Config`` and ``Extractor``)."""
    return importlib.import_module(TYPES[type_name])
