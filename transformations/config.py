"""The ``sql`` transformation type: its config model and its plugin record."""

from __future__ import annotations

from typing import Literal

from headrace.components.transformation import TransformationConfig
from headrace.plugins import Plugin


class SqlTransformationConfig(TransformationConfig):
    """SQL files ``NN_name.sql`` beside this file run in name order in a fresh working schema."""

    type: Literal["sql"] = "sql"


plugin = Plugin(
    "transformation",
    "sql",
    SqlTransformationConfig,
    "headrace.transformations.sql:run",
    description="SQL files run in name order in an isolated working schema",
    check="headrace.transformations.sql:check",
)
