"""Config models of the toy plugins, built on Headrace's public extractor and project types."""

from __future__ import annotations

from typing import Literal

from headrace.components.extractor import ExtractorConfig, TableConfig
from headrace.project.base import Strict
from headrace.storage.base import StorageCapabilities
from pydantic import Field

CAPABILITIES = StorageCapabilities(scheme="toy")  # no warehouse loads toy:// natively: loads stream


class ToyTable(TableConfig):
    load: Literal["full", "append"] = "full"
    rows: int = Field(ge=0, le=10_000_000, description="rows to generate: id 1..rows")


class ToyExtractorConfig(ExtractorConfig):
    type: Literal["toy"]
    tables: list[ToyTable] = Field(min_length=1)


class ToyRemoteConfig(ExtractorConfig):
    type: Literal["toy_remote"]
    endpoint: str = Field(description="the service the vendor SDK talks to")
    tables: list[ToyTable] = Field(min_length=1)


class ToyStorageConfig(Strict):
    """A folder holding every object as one file named by the SHA-256 of its key."""

    type: Literal["toy"] = "toy"
    path: str = Field("toy-objects", description="folder; relative paths are under the state directory")
