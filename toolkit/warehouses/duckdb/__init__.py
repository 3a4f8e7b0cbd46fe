"""DuckDB: the embedded warehouse for laptops and single machines (plugin record and config)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from headrace.plugins import Plugin
from headrace.project.base import Deferred, Strict
from headrace.warehouses.capabilities import Capabilities
from pydantic import AfterValidator, Field

_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*([KMGT]i?B|[kmgt]i?b|[KMGTkmgt]|%)\s*$")


def _memory(value: str) -> str:
    if not _MEMORY.match(value):
        raise ValueError(f"{value!r} is not an amount of memory: write e.g. '2GB', '512MiB' or '50%'")
    return value


Memory = Annotated[str, AfterValidator(_memory)]


class DuckDBConfig(Strict):
    """A DuckDB file; relative paths are under the state directory (``.headrace/``)."""

    type: Literal["duckdb"] = "duckdb"
    path: Deferred[str] = "warehouse.duckdb"
    memory_limit: Deferred[Memory] = Field("2GB", description="DuckDB's memory_limit; keeps big loads flat in memory")
    threads: Deferred[int | None] = Field(None, ge=1)


CAPABILITIES = Capabilities(
    name="duckdb",
    dbt_adapter="dbt-duckdb",
    dialect="duckdb",
    max_identifier_length=255,
    merge=True,
    null_safe_keys=True,
    roles=False,
    single_writer=True,
    native_load_schemes=("file",),
    exports_tables=True,
    local_file=True,
    sandboxes=True,
    # read_csv reads zstd natively, one thread per part; zstd costs the extract a fraction of gzip
    part_formats=("csv.zst", "csv.gz", "csv"),
)

plugin = Plugin(
    "warehouse",
    "duckdb",
    DuckDBConfig,
    "headrace.warehouses.duckdb.warehouse:open",
    CAPABILITIES,
    description="an embedded DuckDB file (laptops, single machines)",
)
