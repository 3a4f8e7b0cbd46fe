"""The loaded project: every file parsed and checked, ready to compile."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headrace.components.extractor import ExtractorConfig
from headrace.components.transformation import TransformationConfig
from headrace.project.config import ProjectConfig
from headrace.project.datamarts import Datamart
from headrace.project.manifest import SqlFile as CompiledSqlFile
from headrace.project.orchestrations import Orchestration


@dataclass
class SqlFile:
    name: str  # e.g. 10_orders.sql
    sql: str


@dataclass
class Transformation:
    id: str
    config: TransformationConfig
    sql_files: list[SqlFile] = field(default_factory=list)
    # what the manifest carries: the files' statements in the warehouse's dialect (set by the checks)
    compiled: list[CompiledSqlFile] = field(default_factory=list)
    # more fields of its manifest task, from its plugin's ``compile_task`` hook (e.g. ``dbt``)
    task_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Project:
    root: Path
    config: ProjectConfig
    extractors: dict[str, ExtractorConfig] = field(default_factory=dict)
    transformations: dict[str, Transformation] = field(default_factory=dict)
    datamarts: dict[str, Datamart] = field(default_factory=dict)
    orchestrations: dict[str, Orchestration] = field(default_factory=dict)
    # task ids ("extractor:crm", "datamart:*") whose own file failed: references to them are not errors again
    broken: set[str] = field(default_factory=set)
    positions: dict[str, int] = field(default_factory=dict)  # "datamart:id" -> index in its file
    files: dict[str, str] = field(default_factory=dict)  # "extractor:id" / "datamarts" -> file relative to root
