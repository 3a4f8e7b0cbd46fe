"""Configuration of the ``postgres`` extractor (no driver import here: it is validated at compile time)."""

from __future__ import annotations

import re
from typing import Literal

from headrace.components.extractor import ExtractorConfig, TableConfig
from headrace.project.base import Deferred, Strict, Text
from headrace.sqltext import fragment_problem
from pydantic import Field, field_validator, model_validator

_SOURCE = re.compile(r"^[^.\s]+\.[^.\s]+$")
_LOOKBACK = re.compile(r"^\s*\d+\s*(s|m|h|d)?\s*$")
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class Connection(Strict):
    host: Text
    port: Deferred[int] = Field(5432, ge=1, le=65535, description="TCP port")
    database: Text
    user: Text
    password: Text = Field("", description='write "${secret:NAME}", never the password itself')
    sslmode: Deferred[SslMode] = "prefer"
    connect_timeout: Deferred[int] = Field(15, ge=1, le=600, description="seconds to wait for the server")


class ColumnSelection(Strict):
    exclude: list[str] = Field(default_factory=list, description="columns never read (e.g. PII)")


class PostgresTable(TableConfig):
    source: str | None = Field(None, description="schema.table to read, e.g. public.orders")
    query: str | None = Field(None, description="a SELECT whose result is the table")
    columns: ColumnSelection = Field(default_factory=ColumnSelection)
    filter: str | None = Field(None, description="SQL condition rows must meet, e.g. NOT is_test")
    lookback: int | str | None = Field(
        None,
        description="incremental: re-read rows this far behind the stored cursor; a duration ('2h', 600 seconds) "
        "for date/timestamp cursors, a number for numeric cursors. Needs primary_key (re-read rows are merged).",
    )

    @model_validator(mode="after")
    def _check(self) -> PostgresTable:
        if (self.source is None) == (self.query is None):
            raise ValueError("give exactly one of source (schema.table) or query (a SELECT)")
        if self.source is not None and not _SOURCE.match(self.source):
            raise ValueError(f"source: {self.source!r} must be schema.table, e.g. public.orders")
        if self.query is not None and (problem := fragment_problem(self.query, "postgres", "query")):
            raise ValueError(f"query: {problem}")
        if self.filter is not None and (problem := fragment_problem(self.filter, "postgres", "condition")):
            raise ValueError(f"filter: {problem}, e.g. NOT is_test AND country = 'CZ'")
        if self.lookback is not None:
            if self.load != "incremental":
                raise ValueError("lookback: only applies to load: incremental")
            if isinstance(self.lookback, bool) or (isinstance(self.lookback, int) and self.lookback < 0):
                raise ValueError("lookback: must be a positive number or a duration such as '2h'")
            if isinstance(self.lookback, str) and not _LOOKBACK.match(self.lookback):
                raise ValueError(f"lookback: {self.lookback!r} is not a duration: write 600, '10m', '2h' or '1d'")
            if not self.primary_key:
                raise ValueError(
                    "lookback: needs primary_key: rows read again are merged on it (without a key they would "
                    "be loaded twice)"
                )
        if self.cursor and self.cursor in self.columns.exclude:
            raise ValueError(f"columns.exclude: cannot exclude the cursor column {self.cursor!r}")
        excluded_keys = [k for k in self.primary_key if k in self.columns.exclude]
        if excluded_keys:
            raise ValueError(f"columns.exclude: cannot exclude primary key column(s) {', '.join(excluded_keys)}")
        return self

    def lookback_seconds(self) -> int:
        """The lookback as seconds (for date and timestamp cursors)."""
        if self.lookback is None:
            return 0
        if isinstance(self.lookback, int):
            return self.lookback
        number = int(re.sub(r"\D", "", self.lookback))
        unit = self.lookback.strip()[-1]
        return number * {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(unit, 1)


class PostgresExtractorConfig(ExtractorConfig):
    type: Literal["postgres"]
    connection: Connection
    tables: list[PostgresTable] = Field(min_length=1)
    streams: int | Literal["auto"] = Field(
        "auto",
        description="COPY streams reading one large table, each in its own process, all under one snapshot "
        "(ctid ranges of a plain table, or ranges of a single integer primary_key); auto: one per CPU core "
        "of the machine running the extract, at most 8. Tables under 64 MB are read by one stream.",
    )

    @field_validator("streams", mode="before")
    @classmethod
    def _streams(cls, value: object) -> object:
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 32):
            return value
        raise ValueError(f"{value!r} is not a number of streams: write a number from 1 to 32, or auto")
