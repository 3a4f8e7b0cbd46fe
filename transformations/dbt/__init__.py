"""Transformations of ``type: dbt``: a dbt project inside the git project (docs/dbt.md).

dbt runs in a virtual environment of its own (``venv``), never Headrace's or Airflow's; it logs
in to the same confined session a SQL transformation gets (``Warehouse.transformation_session``)
with a profile made from that session's login (``profiles``). This module only declares the
configuration: ``compile`` prepares a run when the project is compiled, ``run`` runs it.
"""

from __future__ import annotations

from typing import Literal

from headrace.components.transformation import TransformationConfig
from headrace.plugins import Plugin
from pydantic import Field


class DbtTransformationConfig(TransformationConfig):
    """A dbt project: its models read the declared inputs as ``{{ source('inputs', '<as-name>') }}`` and
    build the declared outputs (models, seeds or snapshots of the same names)."""

    type: Literal["dbt"]
    project_dir: str = Field(
        ".",
        description="the folder holding dbt_project.yml, relative to this transformation's folder",
    )
    threads: int = Field(4, ge=1, le=32, description="dbt's own threads (`dbt build --threads`)")
    select: list[str] = Field(default_factory=list, description="dbt's --select: build only these nodes")
    exclude: list[str] = Field(default_factory=list, description="dbt's --exclude: leave these nodes out")


plugin = Plugin(
    "transformation",
    "dbt",
    DbtTransformationConfig,
    "headrace.transformations.dbt.run:run",
    description="a dbt project, built with `dbt build` in dbt's own virtual environment (docs/dbt.md)",
    compile_task="headrace.transformations.dbt.compile:compile_task",
)
