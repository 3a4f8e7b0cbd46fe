"""Portable column types: the vocabulary of ``schema.json`` and of extractor configs.

Every warehouse maps these to its own DDL; every extractor maps its source catalog to
them. Types are never sniffed from data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SIMPLE = ("string", "integer", "float", "boolean", "date", "timestamp", "timestamp_tz", "json", "bytes")
_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
HINT = "use one of: " + ", ".join((*SIMPLE[:2], "decimal(p,s)", *SIMPLE[2:]))


@dataclass(frozen=True)
class PortableType:
    name: str
    precision: int | None = None
    scale: int | None = None

    def __str__(self) -> str:
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.name


def parse_type(text: str) -> PortableType:
    """Parse ``integer`` or ``decimal(38,10)``; raise ValueError with the allowed forms."""
    value = text.strip().lower()
    if value in SIMPLE:
        return PortableType(value)
    match = _DECIMAL.match(value)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2))
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(f"decimal({precision},{scale}): precision must be 1..38 and scale <= precision")
        return PortableType("decimal", precision, scale)
    if value.startswith("decimal(") and ")" not in value:
        raise ValueError(f'{text!r} is cut at the comma: inside {{...}} quote the type, e.g. "decimal(12,6)"')
    raise ValueError(f"unknown type {text!r}: {HINT}")
