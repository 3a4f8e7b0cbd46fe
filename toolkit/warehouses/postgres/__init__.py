"""PostgreSQL as a warehouse: COPY loads, atomic swaps, working schemas under their own role,
datamarts with read-only logins. psycopg is imported only when a connection opens."""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Deferred, Strict, Text
from headrace.warehouses.capabilities import Capabilities
from pydantic import Field


class PostgresConfig(Strict):
    type: Literal["postgres"]
    host: Text
    port: Deferred[int] = Field(5432, ge=1, le=65535)
    database: Text
    user: Text
    password: Text = ""
    sslmode: Deferred[Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]] = "prefer"
    connect_timeout: Deferred[int] = Field(15, ge=1, le=600, description="seconds to wait for the server")
    load_streams: Deferred[int] = Field(
        4,
        ge=1,
        le=64,
        description="connections a full load of several parts COPYs over at once (at most one per part); "
        "1 loads every part in the loading transaction",
    )


CAPABILITIES = Capabilities(
    name="postgres",
    dbt_adapter="dbt-postgres",
    dialect="postgres",
    max_identifier_length=63,
    merge=True,
    null_safe_keys=False,
    roles=True,
    single_writer=False,
    exports_tables=True,
    sandboxes=True,
    # binary COPY from a PostgreSQL source: nothing parsed at either end; zstd when the parts travel
    part_formats=("pgcopy.zst", "csv.zst", "csv.gz", "csv"),
    local_part_formats=("pgcopy", "csv", "csv.zst", "csv.gz"),
)

plugin = Plugin(
    "warehouse",
    "postgres",
    PostgresConfig,
    "headrace.warehouses.postgres.warehouse:open",
    CAPABILITIES,
    description="PostgreSQL 15+ (self-hosted, RDS, Flexible Server)",
    extra="postgres",
    requires=("psycopg",),
)
