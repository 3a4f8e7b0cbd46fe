"""Compile a loaded project into the manifest: the only file the runtime and Airflow read.

The manifest is deterministic (same project, same bytes: no timestamps) and carries every
name the runtime needs, derived here once (``headrace.project.graph``). Secret references
stay references (``${secret:NAME}``); they are resolved only when a task runs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from headrace import __version__, partformats, plugins
from headrace.components.extractor import part_formats_of
from headrace.containers.plan import container_run, output_prefix
from headrace.project.graph import (
    dependencies,
    dm_schema,
    in_schema,
    order_in_groups,
    out_schema,
    producers,
    state_key,
    storage_prefix,
    task_reads,
    work_schema_prefix,
)
from headrace.project.manifest import (
    DatamartTable,
    DatamartTask,
    ExtractedTable,
    ExtractorTask,
    Manifest,
    Orchestration,
    ProjectSettings,
    RetentionSettings,
    SandboxSettings,
    SecuritySettings,
    TaskDefaults,
    TransformationInputRef,
    TransformationTask,
    write_manifest,
)
from headrace.project.model import Project

# Tasks that run inside the warehouse (SQL transformations, datamarts) only send SQL: they run on
# the machine that orchestrates, never on a worker VM. So do container components: their task moves
# files and talks to the warehouse, and starts the component's image on a worker that runs images.
IN_WAREHOUSE_WORKER = "local"


def git_commit(root: Path) -> str | None:
    """The commit checked out in ``root`` if ``root`` is a git work tree's top folder."""
    try:
        top = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    if len(top) != 2 or Path(top[0]).resolve() != root.resolve():
        return None
    return top[1]


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def build_manifest(project: Project, commit: str | None = None) -> Manifest:
    deps = dependencies(project)
    reads = task_reads(project)
    defaults = project.config.defaults
    writes: dict[str, list[str]] = {}
    for table, task in producers(project).items():
        writes.setdefault(task, []).append(table)

    def common(kind: str, cid: str, config: Any, source_file: str, runs_on: str, schema: str) -> dict[str, Any]:
        tid = f"{kind}:{cid}"
        retries = getattr(config, "retries", None)
        return {
            "id": tid,
            "component": cid,
            "description": getattr(config, "description", ""),
            "source_file": source_file,
            "runs_on": runs_on,
            "reads": reads.get(tid, []),
            "writes": sorted(writes.get(tid, [])),
            "depends_on": deps.get(tid, []),
            "timeout": getattr(config, "timeout", None) or defaults.timeout,
            "retries": retries if retries is not None else defaults.retries,
            "target_schema": schema,
        }

    wh_caps = plugins.get("warehouse", project.config.warehouse.type).capabilities
    dialect = wh_caps.dialect
    preferred = wh_caps.part_format_preference(_storage_scheme(project.config.storage))
    tasks: dict[str, Any] = {}
    worker = project.config.worker.type
    for ext_id, ext in project.extractors.items():
        schema = in_schema(ext_id)
        tables = [
            ExtractedTable(
                name=t.name,
                load=t.load,
                primary_key=list(t.primary_key),
                state_key=state_key(schema, t.name) if t.load == "incremental" else None,
                storage_prefix=storage_prefix(ext_id, t.name),
            )
            for t in ext.table_configs()
        ]
        file = project.files.get(f"extractor:{ext_id}", f"extractors/{ext_id}.yaml")
        container = container_run(ext, project.root, worker) if ext.type == "container" else None
        tasks[f"extractor:{ext_id}"] = ExtractorTask(
            **common("extractor", ext_id, ext, file, IN_WAREHOUSE_WORKER if container else worker, schema),
            type=ext.type,
            tables=tables,
            config=_dump(ext),
            container=container,
            part_format=partformats.choose(preferred, part_formats_of(plugins.get("extractor", ext.type).capabilities)),
        )
    for tr_id, tr in project.transformations.items():
        file = project.files.get(f"transformation:{tr_id}", f"transformations/{tr_id}/transformation.yaml")
        container = None
        if tr.config.type == "container":
            outputs = [
                ExtractedTable(name=name, load="full", storage_prefix=output_prefix(tr_id, name))
                for name in tr.config.outputs
            ]
            container = container_run(tr.config, project.root, worker, outputs)
        tasks[f"transformation:{tr_id}"] = TransformationTask(
            **common("transformation", tr_id, tr.config, file, IN_WAREHOUSE_WORKER, out_schema(tr_id)),
            type=tr.config.type,
            work_schema_prefix=work_schema_prefix(tr_id),
            inputs=[TransformationInputRef(table=i.table, alias=i.local_name) for i in tr.config.inputs],
            outputs=list(tr.config.outputs),
            sql=list(tr.compiled),
            dialect=dialect,
            config=_dump(tr.config),
            container=container,
            **tr.task_fields,
        )
    for dm_id, dm in project.datamarts.items():
        tasks[f"datamart:{dm_id}"] = DatamartTask(
            **common(
                "datamart",
                dm_id,
                dm,
                project.files.get("datamarts", "datamarts.yaml"),
                IN_WAREHOUSE_WORKER,
                dm_schema(dm_id),
            ),
            type="datamart",
            tables=[DatamartTable(source=source, name=name) for source, name in dm.entries()],
            materialization=dm.materialization,
            readers=list(dm.readers),
        )
    orchestrations = {
        orch_id: Orchestration(
            id=orch_id,
            description=orch.description,
            schedule=orch.schedule,
            continue_on_error=orch.continue_on_error,
            steps=[list(step) for step in orch.tasks],
            after=order_in_groups(orch.tasks, deps),
        )
        for orch_id, orch in project.orchestrations.items()
    }
    cfg = project.config
    return Manifest(
        headrace_version=__version__,
        project=ProjectSettings(
            name=cfg.name,
            description=cfg.description,
            commit=commit,
            warehouse=_dump(cfg.warehouse),
            storage=_dump(cfg.storage),
            worker=_dump(cfg.worker),
            secrets=_dump(cfg.secrets),
            defaults=TaskDefaults(**_dump(defaults)),
            security=SecuritySettings(**_dump(cfg.security)),
            retention=RetentionSettings(**_dump(cfg.retention)),
            sandboxes=SandboxSettings(**_dump(cfg.sandboxes)),
        ),
        tasks=dict(sorted(tasks.items())),
        orchestrations=dict(sorted(orchestrations.items())),
    )


def compile_project(project_dir: Path, output: Path | None = None, commit: str | None = None) -> Path:
    """Validate the project in ``project_dir`` and write its manifest; the manifest's path.

    Raises ``ProjectInvalid`` with every error of the project.
    """
    from headrace.paths import manifest_path
    from headrace.project.loader import load_project

    loaded = load_project(project_dir)
    target = output or manifest_path(project_dir)
    write_manifest(build_manifest(loaded, commit or git_commit(loaded.root)), target)
    return target


def _storage_scheme(storage: Any) -> str:
    """The URI scheme of the project's storage (``file`` when none is configured)."""
    kind = getattr(storage, "type", None) or (storage.get("type") if isinstance(storage, dict) else None) or "local"
    return str(plugins.get("storage", kind).capabilities.scheme)
