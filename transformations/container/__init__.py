"""Transformations of ``type: container``: any program in an image reads its inputs as table
files and writes its outputs (docs/components.md). This package only declares the configuration;
``headrace.containers`` runs it."""

from __future__ import annotations

from typing import Literal

from headrace.components.container import ContainerFields
from headrace.components.transformation import TransformationConfig
from headrace.plugins import Plugin


class ContainerTransformationConfig(TransformationConfig, ContainerFields):
    """An image that reads /data/in/tables/<input>/ and writes /data/out/tables/<output>/."""

    type: Literal["container"]


plugin = Plugin(
    "transformation",
    "container",
    ContainerTransformationConfig,
    "headrace.containers.task:container_tables",
    description="any program in a container image, reading and writing table files (docs/components.md)",
)
