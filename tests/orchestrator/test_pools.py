"""Concurrency guards in the DAGs (a real DagBag, no server): every task in a pool of one slot, and the sweeper DAG."""

from __future__ import annotations

from pathlib import Path

import pytest
from headrace.orchestrator.pools import MANAGED, plan

from tests.orchestrator.support import copy_template, on_postgres
from tests.orchestrator.test_dags import compiled, load_dagbag

pytestmark = pytest.mark.airflow


def headrace_tasks(dags: dict) -> dict[tuple[str, str], dict]:
    return {
        (dag_id, task_id): task
        for dag_id, dag in dags.items()
        for task_id, task in dag["tasks"].items()
        if task["operator"] == "HeadraceTaskOperator"
    }


def test_with_duckdb_every_task_shares_one_pool_and_a_local_worker_has_no_sweeper(tmp_path: Path) -> None:
    dags = load_dagbag(tmp_path, compiled(copy_template(tmp_path / "project")))["dags"]
    tasks = headrace_tasks(dags)
    assert len(tasks) == 14  # 7 on-demand DAGs + the 7 tasks of orchestration_daily
    assert {(t["pool"], t["pool_slots"]) for t in tasks.values()} == {("headrace_warehouse", 1)}
    assert dags["project_update"]["tasks"]["update"]["pool"] == "default_pool"
    assert "headrace_worker_sweeper" not in dags


def test_each_component_has_its_own_pool_in_every_dag_and_an_image_worker_gets_the_sweeper(tmp_path: Path) -> None:
    project = on_postgres(copy_template(tmp_path / "project"), worker="docker")
    dags = load_dagbag(tmp_path, compiled(project), {"HEADRACE_SWEEP_SCHEDULE": "*/7 * * * *"})["dags"]
    for (dag_id, task_id), task in headrace_tasks(dags).items():
        component = task["headrace_task"].replace(":", "_", 1)
        assert (task["pool"], task["pool_slots"]) == (f"headrace_{component}", 1), (dag_id, task_id)
    orchestrated = dags["orchestration_daily"]["tasks"]["extractor.shop"]["pool"]
    assert orchestrated == dags["extractor_shop"]["tasks"]["extractor.shop"]["pool"] == "headrace_extractor_shop"

    sweeper = dags["headrace_worker_sweeper"]
    assert sweeper["schedule"] == "*/7 * * * *"
    assert sweeper["tasks"]["sweep"]["operator"] == "WorkerSweepOperator"
    assert sweeper["tasks"]["sweep"]["pool"] == "default_pool"  # never waits behind a component
    assert sweeper["tasks"]["sweep"]["project_dir"] == str(project)
    default = load_dagbag(tmp_path, compiled(project))["dags"]["headrace_worker_sweeper"]
    assert default["schedule"] == "*/5 * * * *"


def test_a_sync_creates_resets_and_deletes_only_idle_pools_it_manages() -> None:
    want = {"headrace_extractor_a": f"One run at a time of extractor:a {MANAGED}"}
    existing = [
        {"name": "headrace_extractor_a", "slots": 4, "description": want["headrace_extractor_a"]},  # changed by hand
        {"name": "headrace_extractor_gone", "slots": 1, "description": f"x {MANAGED}", "occupied_slots": 0},
        {"name": "headrace_extractor_busy", "slots": 1, "description": f"x {MANAGED}", "queued_slots": 1},
        {"name": "headrace_own", "slots": 3, "description": "a user's own pool"},
        {"name": "default_pool", "slots": 128, "description": "Default pool"},
    ]
    changes = plan(want, existing, remove=True)
    assert (changes.create, changes.reset) == ([], ["headrace_extractor_a"])
    assert (changes.delete, changes.busy) == (["headrace_extractor_gone"], ["headrace_extractor_busy"])
    assert plan(want, [], remove=False).create == ["headrace_extractor_a"]
    assert plan(want, existing, remove=False).delete == [], "pools are removed only after the switch"
