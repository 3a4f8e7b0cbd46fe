"""Concurrency guards in a real Airflow 3: the pools exist before the first run, project updates keep them,
and an orchestration and an on-demand run of one component never overlap."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from headrace.orchestrator.api import AirflowApi

from tests.orchestrator.support import HEADRACE, RunningAirflow, copy_template, on_postgres
from tests.orchestrator.test_airflow_e2e import RUN_TIMEOUT_S

pytestmark = [pytest.mark.airflow, pytest.mark.integration, pytest.mark.slow]

TEMPLATE_TASKS = {
    "extractor:shop",
    "extractor:web",
    "extractor:reference",
    "transformation:sales",
    "transformation:marketing",
    "datamart:sales",
    "datamart:marketing",
}


def patient_api(airflow: RunningAirflow) -> AirflowApi:
    """The API with a long timeout: a loaded machine can keep a request of the single API worker waiting."""
    return AirflowApi(airflow.url, "admin", airflow.password, timeout_s=180)


def headrace_pools(api: AirflowApi) -> dict[str, dict[str, Any]]:
    pools = api.call("GET", "/api/v2/pools?limit=100")["pools"]
    return {p["name"]: p for p in pools if p["name"].startswith("headrace_")}


def component_pools(task_ids: set[str]) -> set[str]:
    return {"headrace_" + t.replace(":", "_", 1) for t in task_ids}


def update_env(airflow: RunningAirflow, home: Path, folder: Path) -> dict[str, str]:
    """What a project_update task process has: the API server's address and the simple auth manager's settings,
    and a metadata-database URL that Airflow 3 blocks in task processes."""
    env = {
        **airflow.env,
        "HEADRACE_HOME": str(home),
        "HEADRACE_PROJECT_SOURCE": str(folder),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{airflow.url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(airflow.home / "airflow" / "admin-password.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "airflow-db-not-allowed:///",
    }
    for key in ("HEADRACE_PROJECT_REPO", "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__API__BASE_URL"):
        env.pop(key, None)
    return env


def update_project(env: dict[str, str]) -> str:
    done = subprocess.run([*HEADRACE, "airflow", "update-project"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_pools_exist_before_the_first_run_and_project_updates_keep_them(
    airflow_instance: RunningAirflow, tmp_path: Path
) -> None:
    """``up`` made the DuckDB project's single pool. A deployment of the same project on PostgreSQL, updated the
    way project_update does it, makes one pool per component, re-creates and resets what was changed by hand,
    adds and removes pools with components; the project_update DAG (a real task process) then restores them."""
    api = patient_api(airflow_instance)
    pools = headrace_pools(api)
    assert set(pools) == {"headrace_warehouse"}
    assert pools["headrace_warehouse"]["slots"] == 1

    folder = on_postgres(copy_template(tmp_path / "project"))
    shutil.copy(folder / "extractors" / "reference.yaml", folder / "extractors" / "extra.yaml")
    env = update_env(airflow_instance, tmp_path / "home", folder)
    try:
        update_project(env)
        pools = headrace_pools(api)
        assert set(pools) == component_pools(TEMPLATE_TASKS | {"extractor:extra"}), "the idle DuckDB pool went"
        assert {p["slots"] for p in pools.values()} == {1}

        shop = {"pool": "headrace_extractor_shop", "slots": 5, "include_deferred": False}
        api.call("PATCH", "/api/v2/pools/headrace_extractor_shop?update_mask=slots", shop)
        api.call("DELETE", "/api/v2/pools/headrace_extractor_web")
        os.rename(folder / "extractors" / "extra.yaml", folder / "extractors" / "extra2.yaml")
        out = update_project(env)
        assert "deployed" in out
        pools = headrace_pools(api)
        assert set(pools) == component_pools(TEMPLATE_TASKS | {"extractor:extra2"})
        assert pools["headrace_extractor_shop"]["slots"] == 1, "slots changed by hand are reset"
    finally:
        run_id = api.trigger("project_update")
        state = api.wait_for_run("project_update", run_id, RUN_TIMEOUT_S)
    assert state == "success", api.task_log("project_update", run_id, "update")
    assert "pools:" in api.task_log("project_update", run_id, "update")
    assert set(headrace_pools(api)) == {"headrace_warehouse"}


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_an_orchestration_and_an_on_demand_run_of_one_component_never_overlap(
    airflow_instance: RunningAirflow,
) -> None:
    """Both runs are triggered at once. With the DuckDB warehouse every task shares one pool of one slot, so no two
    task instances of the two runs overlap at all (from Airflow's own start and end times), and the on-demand
    extractor.shop was ready while the orchestration's extractors ran: it waited for the slot."""
    api = patient_api(airflow_instance)
    runs = {"orchestration_daily": api.trigger("orchestration_daily"), "extractor_shop": api.trigger("extractor_shop")}
    for dag_id, run_id in runs.items():
        assert api.wait_for_run(dag_id, run_id, RUN_TIMEOUT_S) == "success", api.task_instances(dag_id, run_id)
    instances = []
    for dag_id, run_id in runs.items():
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances"
        instances += api.call("GET", path)["task_instances"]
    assert len(instances) == 8
    assert {ti["pool"] for ti in instances} == {"headrace_warehouse"}
    ordered = sorted(instances, key=lambda ti: _when(ti["start_date"]))
    for before, after in itertools.pairwise(ordered):
        assert _when(after["start_date"]) >= _when(before["end_date"]), (
            f"{before['dag_id']}.{before['task_id']} and {after['dag_id']}.{after['task_id']} overlapped"
        )
    shop = sorted((ti for ti in instances if ti["task_id"] == "extractor.shop"), key=lambda ti: ti["start_date"])
    first, second = shop
    assert first["dag_id"] != second["dag_id"]
    assert _when(second["scheduled_when"]) < _when(first["end_date"]), "the second run was ready and had to wait"


def test_an_update_whose_pools_cannot_be_made_fails_with_the_reason_and_switches_nothing(
    airflow_instance: RunningAirflow, tmp_path: Path
) -> None:
    """Without its pools a new component's tasks would wait for ever: the update fails instead, and says why."""
    wrong = tmp_path / "passwords.json"
    wrong.write_text('{"admin": "not-the-password"}')
    folder = on_postgres(copy_template(tmp_path / "project"))
    env = {
        **update_env(airflow_instance, tmp_path / "home", folder),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(wrong),
    }
    done = subprocess.run([*HEADRACE, "airflow", "update-project"], env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "could not keep Airflow's pools in sync (HTTP 401" in done.stderr
    assert "not-the-password" not in done.stdout + done.stderr
    assert not (tmp_path / "home" / "current").exists(), "the version was not switched to"
    assert set(headrace_pools(patient_api(airflow_instance))) == {"headrace_warehouse"}


def test_an_update_while_airflow_is_down_deploys_and_says_the_pools_come_later(tmp_path: Path) -> None:
    """The cloud bootstrap deploys before Airflow starts: the update must not fail for the pools then."""
    from tests.orchestrator.support import free_port

    folder = copy_template(tmp_path / "project")
    env = {**os.environ, "HEADRACE_HOME": str(tmp_path / "home"), "HEADRACE_PROJECT_SOURCE": str(folder)}
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://127.0.0.1:{free_port()}/execution/"
    for key in ("HEADRACE_PROJECT_REPO", "AIRFLOW__CORE__DAGS_FOLDER", "HEADRACE_MANIFEST"):
        env.pop(key, None)
    out = update_project(env)
    assert "does not answer: pools are synced when Airflow starts or at the next update" in out
    assert (tmp_path / "home" / "current" / ".headrace" / "manifest.json").is_file()
