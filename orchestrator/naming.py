"""Airflow names of Headrace things: shared by the DAG builder and the CLI (no Airflow import)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headrace.project.manifest import Manifest

PROJECT_UPDATE = "project_update"
WORKER_SWEEPER = "headrace_worker_sweeper"
SANDBOX = "headrace_sandbox"  # create, run or drop an analyst's sandbox (by hand, with parameters)
SANDBOX_SWEEPER = "headrace_sandbox_sweeper"
POOL_PREFIX = "headrace_"  # Airflow pools Headrace keeps (headrace.orchestrator.pools)
WAREHOUSE_POOL = "headrace_warehouse"  # the one pool of every task when the warehouse takes one writer (DuckDB)


def task_name(task_id: str) -> str:
    """Airflow task id of a manifest task: ``extractor:crm`` -> ``extractor.crm``."""
    return task_id.replace(":", ".", 1)


def dag_name(task_id: str) -> str:
    """On-demand DAG id of a manifest task: ``extractor:crm`` -> ``extractor_crm``."""
    return task_id.replace(":", "_", 1)


def component_pool(task_id: str) -> str:
    """Airflow pool of one component (one slot): ``extractor:crm`` -> ``headrace_extractor_crm``."""
    return POOL_PREFIX + dag_name(task_id)


def orchestration_dag_name(orchestration_id: str) -> str:
    return f"orchestration_{orchestration_id}"


def dag_ids(manifest: Manifest | None) -> set[str]:
    """Every DAG id the DAG file builds for ``manifest`` (``project_update`` alone without one)."""
    if manifest is None:
        return {PROJECT_UPDATE}
    from headrace.orchestrator.sandboxes import sandbox_transformations
    from headrace.orchestrator.sweeper import needs_sweeper

    return {
        PROJECT_UPDATE,
        *(dag_name(t) for t in manifest.tasks),
        *(orchestration_dag_name(o) for o in manifest.orchestrations),
        *([WORKER_SWEEPER] if needs_sweeper(manifest) else []),
        *([SANDBOX, SANDBOX_SWEEPER] if sandbox_transformations(manifest) else []),
    }
