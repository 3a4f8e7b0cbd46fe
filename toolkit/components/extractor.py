"""What every extractor shares: table load settings and the extraction contract.

An extractor turns one configured table into CSV parts plus ``schema.json`` in a local
folder through a ``TableWriter`` (DESIGN §4); the runner publishes the folder to storage
and loads it. An extractor never talks to the warehouse, so every extractor gets
full/append/incremental/upsert loads for free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from headrace.project.base import Duration, Identifier, Strict
from headrace.tablefiles import RESERVED_PREFIX, TableSchema, reserved_columns
from pydantic import Field, model_validator

LoadMode = Literal["full", "append", "incremental", "upsert"]


class TableConfig(Strict):
    name: Identifier = Field(description="warehouse table name: in_<extractor>.<name>")
    load: LoadMode = "full"
    primary_key: list[str] = Field(default_factory=list)
    cursor: str | None = Field(None, description="column whose maximum is kept between incremental runs")

    @model_validator(mode="after")
    def _load_needs(self) -> TableConfig:
        reserved = reserved_columns([*self.primary_key, *([self.cursor] if self.cursor else [])])
        if reserved:
            raise ValueError(
                f"column {reserved[0]!r}: names starting with {RESERVED_PREFIX} are Headrace's own columns; "
                "rename the column in the source"
            )
        if self.load == "incremental" and not self.cursor:
            raise ValueError("cursor: required when load is incremental (name the column that only grows)")
        if self.load == "upsert" and not self.primary_key:
            raise ValueError("primary_key: required when load is upsert (list the key columns)")
        return self


@dataclass(frozen=True)
class ExtractorCapabilities:
    """What an extractor plugin declares as its ``capabilities`` (read at compile time)."""

    # the part formats (headrace.partformats) its ``TableWriter`` can write; compile picks the one
    # the warehouse loads fastest. An extractor without capabilities writes csv.gz only.
    part_formats: tuple[str, ...] = ("csv.gz",)


def part_formats_of(capabilities: Any) -> tuple[str, ...]:
    return getattr(capabilities, "part_formats", None) or ("csv.gz",)


class ExtractorConfig(Strict):
    type: str
    description: str = ""
    timeout: Duration | None = None
    retries: int | None = Field(None, ge=0, le=10)
    max_concurrency: int = Field(4, ge=1, le=64, description="tables extracted at the same time")
    tables: list[Any]

    def table_configs(self) -> list[TableConfig]:
        return list(self.tables)


@dataclass
class ExtractContext:
    """What a table extraction may use besides its config."""

    extractor_id: str
    run_id: str
    project_dir: Path
    state: dict[str, Any] = field(default_factory=dict)  # incremental cursor of this table, if any
    full_refresh: bool = False
    log: Callable[[str], None] = print
    allow_urls_to: tuple[str, ...] = ()  # project.yaml security.allow_urls_to: networks URL sources may reach
    # how to write the parts (headrace.partformats): chosen at compile time from the warehouse's
    # capabilities and the extractor's; pass it to ``TableWriter``
    part_format: str = "csv.gz"


class Extractor(Protocol):
    """Built from the extractor's config with every ``${secret:..}``/``${env:..}`` already resolved."""

    def __init__(self, config: Any, context: ExtractContext) -> None: ...

    def extract(self, table: Any, folder: Path) -> tuple[TableSchema, dict[str, Any]]:
        """Write ``table`` as parts + ``schema.json`` into ``folder``; return its schema and new state."""
        ...


# What an extractor plugin's ``factory`` names: ``factory(config, context)`` is an ``Extractor``.
# Assigning an implementation to this type makes the type checker prove that its constructor
# and its ``extract`` match the protocol (extractors/conformance.py does it for the built-ins).
ExtractorFactory = Callable[[Any, ExtractContext], Extractor]
