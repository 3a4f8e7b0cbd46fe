"""Extractors of ``type: container``: any program in an image writes tables (docs/components.md).

The task runs beside the orchestrator and starts the image on a worker that runs images
(``headrace.containers``); this package only declares the configuration.
"""

from __future__ import annotations

from typing import Literal

from headrace.components.container import ContainerFields, ContainerTable
from headrace.components.extractor import ExtractorConfig
from headrace.plugins import Plugin
from pydantic import Field


class ContainerExtractorConfig(ExtractorConfig, ContainerFields):
    """An image that writes the declared tables to /data/out/tables/<name>/ (CSV parts + schema.json)."""

    type: Literal["container"]
    tables: list[ContainerTable] = Field(min_length=1, description="the tables the container writes")


plugin = Plugin(
    "extractor",
    "container",
    ContainerExtractorConfig,
    "headrace.containers.task:container_tables",
    description="any program in a container image (docs/components.md)",
)
