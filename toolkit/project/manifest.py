"""The manifest: the typed, versioned contract between ``compile`` and everything that runs.

``headrace compile`` writes it; the runner, the CLI, the executor, workers and the Airflow
DAG builder read it through ``read_manifest`` and nothing else. Every name derived from
the project (schemas, datamart tables, input aliases, state keys, the working-schema
prefix) is computed once by the compiler and stored here: readers never re-derive one.

Configs that hold ``${secret:...}``/``${env:...}`` references keep them: they are
resolved and validated against the plugin's model only when a task runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from headrace.errors import ConfigError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

MANIFEST_VERSION = 5  # 5: part formats; 4: dbt runs, SQL assertions, order inside parallel groups


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskBase(_Model):
    id: str  # kind:component, e.g. extractor:crm
    component: str
    type: str  # the plugin that runs it (extractor/transformation type; "datamart")
    description: str = ""
    source_file: str  # the project file the task comes from, for messages
    runs_on: str  # worker plugin that runs the task's process
    reads: list[str] = Field(default_factory=list)  # schema.table
    writes: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    timeout: int
    retries: int
    target_schema: str  # in_<id>, out_<id> or dm_<id>


class ExtractedTable(_Model):
    name: str  # the table in target_schema
    load: Literal["full", "append", "incremental", "upsert"]
    primary_key: list[str] = Field(default_factory=list)
    state_key: str | None = None  # headrace_meta.state key of an incremental cursor
    storage_prefix: str  # raw/<extractor>/<table>: a run's parts go under <prefix>/<run_id>


class ContainerRun(_Model):
    """How a component of ``type: container`` runs (docs/components.md): the task itself runs
    beside the orchestrator (``runs_on: local``) and starts the image on ``worker``."""

    image: str  # the image run: the one named, or the tag of the build folder's content hash
    build: str | None = None  # project folder with the Dockerfile, built on the engine when the tag is missing
    worker: str  # worker plugin that runs the image: the project's when it runs images, else docker
    tables: list[ExtractedTable] = Field(default_factory=list)  # a transformation's outputs (loaded in full)


class ExtractorTask(TaskBase):
    kind: Literal["extractor"] = "extractor"
    tables: list[ExtractedTable]
    config: dict[str, Any]  # the extractor plugin's config, references unresolved
    container: ContainerRun | None = None  # type: container
    # how its parts are written and stored (headrace.partformats): the first format of the warehouse's
    # preference the extractor can write, for the project's storage
    part_format: str = "csv.gz"


class TransformationInputRef(_Model):
    table: str  # schema.table
    alias: str  # the name the SQL uses


class SqlStatement(_Model):
    line: int  # where it starts in the project's file, for messages
    sql: str  # in the warehouse's dialect: transpiled at compile time, or the file's own text


class SqlFile(_Model):
    file: str  # e.g. 10_orders.sql
    statements: list[SqlStatement]  # run in this order
    # a query whose rows' ``message`` column fails the task (a row starting ERROR) or warns
    # (WARNING): docs/transformations.md, "Assertions"
    assertion: bool = False


class DbtNode(_Model):
    """One node of a dbt project as its parse or compile saw it (for lineage and the docs page)."""

    unique_id: str  # e.g. model.shop.stg_orders
    name: str  # the relation it makes (models, seeds, snapshots) or the test's name
    resource_type: str  # model | seed | snapshot | test
    depends_on: list[str] = Field(default_factory=list)  # unique_ids; inputs are source.<project>.inputs.<as-name>
    columns: list[str] = Field(default_factory=list)  # columns documented in the dbt project
    sql: str | None = None  # compiled SQL where compile could make it, else None


class DbtRun(_Model):
    """How a transformation of ``type: dbt`` runs (docs/dbt.md)."""

    project_dir: str  # the folder holding dbt_project.yml, relative to the project root
    adapter: str  # the dbt adapter package installed beside dbt-core, e.g. dbt-duckdb
    threads: int  # dbt's own threads in its one task
    nodes: list[DbtNode] = Field(default_factory=list)


class TransformationTask(TaskBase):
    kind: Literal["transformation"] = "transformation"
    work_schema_prefix: str  # tr_<id>: a run works in <prefix>_<8 characters of the run>
    inputs: list[TransformationInputRef] = Field(default_factory=list)
    outputs: list[str]
    sql: list[SqlFile] = Field(default_factory=list)
    dialect: str  # the warehouse's SQL dialect, which ``sql`` is written in
    config: dict[str, Any]  # the transformation plugin's config
    container: ContainerRun | None = None  # type: container
    dbt: DbtRun | None = None  # type: dbt


class DatamartTable(_Model):
    source: str  # schema.table published
    name: str  # its name in the datamart


class DatamartTask(TaskBase):
    kind: Literal["datamart"] = "datamart"
    tables: list[DatamartTable]
    materialization: Literal["view", "table"]
    readers: list[str] = Field(default_factory=list)


Task = Annotated[Union[ExtractorTask, TransformationTask, DatamartTask], Field(discriminator="kind")]  # noqa: UP007


class Orchestration(_Model):
    id: str
    description: str = ""
    schedule: str | None = None
    continue_on_error: bool = False
    steps: list[list[str]]
    # task -> tasks of its own step it runs after, because it reads what they write
    after: dict[str, list[str]] = Field(default_factory=dict)


class TaskDefaults(_Model):
    timeout: int
    retries: int
    retry_delay: int


class SecuritySettings(_Model):
    allow_urls_to: list[str] = Field(default_factory=list)  # CIDR networks URL sources may reach anyway
    custom_dags: bool = True  # link the project's dags/ into Airflow


class RetentionSettings(_Model):
    keep_runs: int = 3  # raw run folders kept per table: those of its last N successful loads


class SandboxSettings(_Model):
    idle_expiry: int = 7 * 86400  # seconds: a sandbox not used for longer is dropped by the sweep


class ProjectSettings(_Model):
    name: str
    description: str = ""
    commit: str | None = None
    warehouse: dict[str, Any]  # the warehouse plugin's config, references unresolved
    storage: dict[str, Any]
    worker: dict[str, Any]
    secrets: dict[str, Any] = Field(default_factory=lambda: {"type": "env"})  # references unresolved
    defaults: TaskDefaults
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    sandboxes: SandboxSettings = Field(default_factory=SandboxSettings)


class Manifest(_Model):
    manifest_version: Literal[5] = MANIFEST_VERSION
    headrace_version: str
    project: ProjectSettings
    tasks: dict[str, Task]
    orchestrations: dict[str, Orchestration] = Field(default_factory=dict)

    def task(self, task_id: str) -> ExtractorTask | TransformationTask | DatamartTask:
        if task_id not in self.tasks:
            raise ConfigError(f"no task {task_id!r} in the manifest; known: {', '.join(sorted(self.tasks))}")
        return self.tasks[task_id]


def write_manifest(manifest: Manifest, path: Path) -> None:
    """Write atomically: readers (the DAG file) see the old or the new file, never half.

    Keys keep the model's order (deterministic); mappings such as a table's columns keep
    the user's order, which the warehouse tables follow.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(manifest_json(manifest), encoding="utf-8")
    os.replace(tmp, path)


def manifest_json(manifest: Manifest) -> str:
    return json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def read_manifest(path: Path) -> Manifest:
    """The manifest at ``path``; a ``ConfigError`` that says what to do when it is missing,
    of another version, or not a manifest."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist: run `headrace compile` first") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path} is not JSON ({exc}): run `headrace compile` again") from None
    version = data.get("manifest_version") if isinstance(data, dict) else None
    if version != MANIFEST_VERSION:
        raise ConfigError(
            f"{path}: manifest version {version!r} is not the version {MANIFEST_VERSION} this Headrace "
            "reads: recompile the project with this Headrace (`headrace compile`), or install the Headrace "
            "version that compiled it"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{path}: not a valid manifest ({exc.error_count()} problem(s), first at {where}: {first['msg']}): "
            "recompile the project (`headrace compile`)"
        ) from None
