"""Snowflake as a warehouse: PUT + COPY INTO loads, SWAP for atomic replace, MERGE, zero-copy
clones for transformation inputs, a throwaway user and role per transformation run and a
login per datamart reader. snowflake-connector-python is imported only when a connection opens
(docs/snowflake.md)."""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Deferred, SecretOnly, Strict, Text
from headrace.warehouses.capabilities import Capabilities
from pydantic import Field, model_validator


class SnowflakeConfig(Strict):
    type: Literal["snowflake"]
    account: Text = Field(description="account identifier, e.g. myorg-myaccount")
    user: Text
    password: SecretOnly | None = None
    private_key: SecretOnly | None = Field(None, description="PEM of the user's key pair (key-pair authentication)")
    private_key_passphrase: SecretOnly | None = None
    role: Text | None = Field(None, description="the role Headrace works as (default: the user's default role)")
    warehouse: Text
    database: Text
    storage_integration: Deferred[str] | None = Field(
        None, description="a storage integration over the project's bucket: COPY INTO reads s3/gs/azure parts directly"
    )
    # where the connector connects; only needed for a proxy or an emulator (tests use fakesnow)
    host: Deferred[str] | None = None
    port: Deferred[int] | None = Field(None, ge=1, le=65535)
    protocol: Deferred[Literal["https", "http"]] = "https"
    login_timeout: Deferred[int] = Field(60, ge=1, le=3600, description="seconds to wait for a login")
    lock_timeout: Deferred[int] = Field(
        600, ge=0, description="seconds a load waits for a table another (or a killed) session holds"
    )

    @model_validator(mode="after")
    def _one_credential(self) -> SnowflakeConfig:
        if (self.password is None) == (self.private_key is None):
            given = "both" if self.password is not None else "neither"
            raise ValueError(
                f"warehouse: give exactly one of password or private_key (got {given}), each as ${{secret:NAME}}"
            )
        return self


CAPABILITIES = Capabilities(
    name="snowflake",
    dbt_adapter="dbt-snowflake",
    dialect="snowflake",
    max_identifier_length=255,
    merge=True,
    null_safe_keys=False,
    roles=True,
    single_writer=False,
    # with a storage_integration only (the warehouse clears these without one)
    native_load_schemes=("s3", "gs", "az"),
    exports_tables=False,  # not yet: container transformations are refused at validation
    # COPY INTO and PUT read zstd parts too (COMPRESSION = ZSTD, asserted at the boundary), but the
    # emulator the suite runs on (fakesnow) loads gzip or nothing: compile picks what is verified
    part_formats=("csv.gz", "csv"),
)

plugin = Plugin(
    "warehouse",
    "snowflake",
    SnowflakeConfig,
    "headrace.warehouses.snowflake.warehouse:open",
    CAPABILITIES,
    description="Snowflake (key-pair or password login)",
    extra="snowflake",
    requires=("snowflake.connector",),
)
