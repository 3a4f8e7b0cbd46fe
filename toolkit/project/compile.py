"""Compile a loaded project into ``manifest.json``: the only file the runtime and Airflow read.

The manifest is deterministic: same project, same bytes (sorted keys, no timestamps).
Secret references stay references (``${secret:NAME}``); they are resolved only when a
task runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from headrace import __version__
from headrace.project.graph import dependencies, in_schema, out_schema, producers, task_reads
from headrace.project.model import Project

MANIFEST_VERSION = 1


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


def build_manifest(project: Project, commit: str | None = None) -> dict[str, Any]:
    deps = dependencies(project)
    reads = task_reads(project)
    made_by = producers(project)
    defaults = project.config.defaults
    writes: dict[str, list[str]] = {}
    for table, task in made_by.items():
        writes.setdefault(task, []).append(table)

    def task(kind: str, cid: str, config: Any, runs_on: str, **extra: Any) -> dict[str, Any]:
        tid = f"{kind}:{cid}"
        return {
            "id": tid,
            "kind": kind,
            "component": cid,
            "description": getattr(config, "description", ""),
            "runs_on": runs_on,
            "reads": reads.get(tid, []),
            "writes": sorted(writes.get(tid, [])),
            "depends_on": deps.get(tid, []),
            "timeout": getattr(config, "timeout", None) or defaults.timeout,
            "retries": getattr(config, "retries", None)
            if getattr(config, "retries", None) is not None
            else defaults.retries,
            "config": _dump(config),
            **extra,
        }

    tasks: dict[str, Any] = {}
    for ext_id, config in project.extractors.items():
        tasks[f"extractor:{ext_id}"] = task("extractor", ext_id, config, "worker", schema=in_schema(ext_id))
    for tr_id, tr in project.transformations.items():
        sql = [{"file": f.name, "text": f.sql} for f in tr.sql_files]
        tasks[f"transformation:{tr_id}"] = task(
            "transformation", tr_id, tr.config, "warehouse", schema=out_schema(tr_id), sql=sql
        )
    for dm_id, dm in project.datamarts.items():
        tasks[f"datamart:{dm_id}"] = task("datamart", dm_id, dm, "warehouse", schema=f"dm_{dm_id}")
    orchestrations = {
        orch_id: {
            "id": orch_id,
            "description": orch.description,
            "schedule": orch.schedule,
            "continue_on_error": orch.continue_on_error,
            "steps": [list(step) for step in orch.tasks],
        }
        for orch_id, orch in project.orchestrations.items()
    }
    cfg = project.config
    return {
        "manifest_version": MANIFEST_VERSION,
        "headrace_version": __version__,
        "project": {
            "name": cfg.name,
            "description": cfg.description,
            "commit": commit,
            "warehouse": _dump(cfg.warehouse),
            "storage": _dump(cfg.storage),
            "worker": _dump(cfg.worker),
            "defaults": _dump(cfg.defaults),
        },
        "tasks": dict(sorted(tasks.items())),
        "orchestrations": dict(sorted(orchestrations.items())),
    }


def write_manifest(manifest: dict[str, Any], path: Path) -> None:
    """Write atomically: readers (the DAG file) see the old or the new file, never half.

    Keys are not sorted: the order is already deterministic, and mappings such as a
    table's columns carry the user's order, which the warehouse tables keep.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("manifest_version") != MANIFEST_VERSION:
        raise ValueError(
            f"{path}: manifest version {data.get('manifest_version')} is not {MANIFEST_VERSION}; run headrace compile"
        )
    return data
