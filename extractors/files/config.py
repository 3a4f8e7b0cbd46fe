"""Configuration of the ``file`` extractor."""

from __future__ import annotations

from typing import Annotated, Literal

from headrace.components.extractor import ExtractorConfig, TableConfig
from headrace.project.base import Strict, Text, TypeName, join_split_types
from headrace.project.confine import PROJECT_PATH, PROJECT_URL
from headrace.tablefiles import RESERVED_PREFIX, reserved_columns
from pydantic import Field, field_validator, model_validator


class CsvOptions(Strict):
    # defaults by keyword: type checkers read a positional one as "required" (CsvOptions() below)
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quote: str = Field(default='"', min_length=1, max_length=1)
    escape: str = Field(default='"', min_length=1, max_length=1)
    header: bool = True
    null: str = Field(default="", description="text that means NULL; a quoted empty field stays an empty string")
    encoding: Literal["utf-8", "utf-16", "latin-1"] = "utf-8"


class FileTable(TableConfig):
    load: Literal["full", "append"] = Field("full", description="file extractors support full and append")
    path: Annotated[Text | None, PROJECT_PATH] = Field(
        None, description="file path, relative to the project folder; it must resolve inside it"
    )
    url: Annotated[Text | None, PROJECT_URL] = Field(
        None, description="http(s) URL; link-local and cloud metadata addresses are refused"
    )
    format: Literal["csv", "jsonl"] | None = Field(None, description="default: from the file name")
    compression: Literal["auto", "none", "gzip", "zip"] = "auto"
    member: str | None = Field(None, description="file inside a zip archive")
    csv: CsvOptions = Field(default_factory=CsvOptions)
    columns: dict[str, TypeName] = Field(min_length=1, description="column name -> portable type, in order")
    headers: dict[str, Text] = Field(default_factory=dict, description="HTTP headers for url")

    @field_validator("columns", mode="before")
    @classmethod
    def _split_flow_types(cls, value: object) -> object:
        return join_split_types(value)

    @field_validator("columns")
    @classmethod
    def _own_names(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = reserved_columns(list(value))
        if reserved:
            raise ValueError(
                f"{reserved[0]!r}: names starting with {RESERVED_PREFIX} are Headrace's own columns; "
                "give the column another name here (for a csv with a header, it must match the file)"
            )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> FileTable:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of path (a file in the project) or url (http or https)")
        if self.url is not None and not self.url.startswith(("http://", "https://", "${")):
            raise ValueError(f"url: {self.url!r} must start with http:// or https://")
        if self.format is None and self.source_format() is None:
            raise ValueError("format: cannot tell csv from jsonl by the file name; set format: csv or jsonl")
        return self

    def location(self) -> str:
        return self.path if self.path is not None else str(self.url)

    def source_format(self) -> str | None:
        if self.format:
            return self.format
        name = (self.member or self.location()).lower().split("?")[0]
        for suffix in (".gz", ".zip"):
            name = name.removesuffix(suffix)
        if name.endswith((".csv", ".tsv", ".txt")):
            return "csv"
        if name.endswith((".jsonl", ".ndjson", ".json")):
            return "jsonl"
        return None

    def source_compression(self) -> str:
        if self.compression != "auto":
            return self.compression
        name = self.location().lower().split("?")[0]
        if name.endswith(".gz"):
            return "gzip"
        if name.endswith(".zip"):
            return "zip"
        return "none"


class FileExtractorConfig(ExtractorConfig):
    type: Literal["file"]
    tables: list[FileTable] = Field(min_length=1)
