"""Airflow names of Headrace things: shared by the DAG builder and the CLI (no Airflow import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headrace.project.manifest import Manifest

PROJECT_UPDATE = "project_update"


def task_name(task_id: str) -> str:
    """Airflow task id of a manifest task: ``extractor:crm`` -> ``extractor.crm``."""
    return task_id.replace(":", ".", 1)


def dag_name(task_id: str) -> str:
    """On-demand DAG id of a manifest task: ``extractor:crm`` -> ``extractor_crm``."""
    return task_id.replace(":", "_", 1)


def orchestration_dag_name(orchestration_id: str) -> str:
    return f"orchestration_{orchestration_id}"


def dag_ids(manifest: Manifest | None) -> set[str]:
    """Every DAG id the DAG file builds for ``manifest`` (``project_update`` alone without one)."""
    if manifest is None:
        return {PROJECT_UPDATE}
    return {
        PROJECT_UPDATE,
        *(dag_name(t) for t in manifest.tasks),
        *(orchestration_dag_name(o) for o in manifest.orchestrations),
    }
