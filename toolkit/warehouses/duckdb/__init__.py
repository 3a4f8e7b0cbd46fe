"""DuckDB: the embedded warehouse for laptops and single machines (plugin record and config)."""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Deferred, Strict
from headrace.warehouses.capabilities import Capabilities
from pydantic import Field


class DuckDBConfig(Strict):
    """A DuckDB file; relative paths are under the state directory (``.headrace/``)."""

    type: Literal["duckdb"] = "duckdb"
    path: Deferred[str] = "warehouse.duckdb"
    memory_limit: Deferred[str] = Field("2GB", description="DuckDB's memory_limit; keeps big loads flat in memory")
    threads: Deferred[int | None] = Field(None, ge=1)


CAPABILITIES = Capabilities(
    name="duckdb",
    dialect="duckdb",
    max_identifier_length=255,
    merge=True,
    null_safe_keys=True,
    roles=False,
    single_writer=True,
    native_load_schemes=("file",),
)

plugin = Plugin(
    "warehouse",
    "duckdb",
    DuckDBConfig,
    "headrace.warehouses.duckdb.warehouse:open",
    CAPABILITIES,
    description="an embedded DuckDB file (laptops, single machines)",
)
