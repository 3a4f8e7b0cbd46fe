"""A real Airflow 3 runs the example project: orchestration over REST, options, failures, git pushes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.httpserver import serve
from tests.orchestrator.support import AIRFLOW_ENV_VALUE, AIRFLOW_SECRET, RunningAirflow
from tests.security import leakscan

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

RUN_TIMEOUT_S = 300
EXAMPLE_TASKS = {
    "extractor.shop",
    "extractor.web",
    "extractor.reference",
    "transformation.sales",
    "transformation.marketing",
    "datamart.sales",
    "datamart.marketing",
}


def run_dag(airflow: RunningAirflow, dag_id: str, conf: dict | None = None) -> tuple[str, str]:
    api = airflow.api()
    run_id = api.trigger(dag_id, conf)
    return run_id, api.wait_for_run(dag_id, run_id, RUN_TIMEOUT_S)


def query(airflow: RunningAirflow, sql: str) -> list[dict]:
    """``headrace query`` on the deployed project and the warehouse the Airflow tasks wrote."""
    done = airflow.headrace(
        "query", sql, "--project", str(airflow.home / "current"), "--format", "json", env_extra=state_env(airflow)
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def state_env(airflow: RunningAirflow) -> dict[str, str]:
    return {"HEADRACE_STATE_DIR": str(airflow.home / "state")}


def deployed_version(airflow: RunningAirflow) -> str:
    return (airflow.home / "current").resolve().name


def wait_for_dag(airflow: RunningAirflow, dag_id: str, timeout_s: float = 180) -> None:
    """New DAGs appear once the DAG processor re-parses the DAG file after a deployment."""
    api = airflow.api()
    deadline = time.monotonic() + timeout_s
    while dag_id not in api.dag_ids():
        assert time.monotonic() < deadline, f"{dag_id} did not appear in Airflow within {timeout_s:.0f} s"
        time.sleep(2)


def test_example_dags_are_listed_and_unpaused(airflow_instance: RunningAirflow) -> None:
    dags = {d["dag_id"]: d for d in airflow_instance.api().call("GET", "/api/v2/dags?limit=100")["dags"]}
    assert {"orchestration_daily", "project_update", "extractor_shop", "datamart_sales"} <= set(dags)
    assert not any(d["is_paused"] for d in dags.values()), "on-demand DAGs must run when triggered"


def test_orchestration_runs_through_the_api_and_fills_the_warehouse(airflow_instance: RunningAirflow) -> None:
    run_id, state = run_dag(airflow_instance, "orchestration_daily")
    api = airflow_instance.api()
    assert state == "success", api.task_instances("orchestration_daily", run_id)
    assert api.task_instances("orchestration_daily", run_id) == dict.fromkeys(EXAMPLE_TASKS, "success")
    revenue = query(
        airflow_instance, "select count(*) as months, sum(revenue_eur) > 0 as paid from dm_sales.revenue_by_month"
    )
    assert revenue[0]["months"] > 0 and revenue[0]["paid"] is True
    log = api.task_log("orchestration_daily", run_id, "extractor.shop")
    assert "in_shop.orders: 2,000 rows loaded (full)" in log, "the task's own output streams into the Airflow log"
    history = query(
        airflow_instance, "select count(distinct run_id) as runs, count(*) as tasks from headrace_meta.task_runs"
    )
    assert history[0]["tasks"] >= len(EXAMPLE_TASKS)


def test_component_dag_takes_the_full_refresh_option(airflow_instance: RunningAirflow) -> None:
    run_id, state = run_dag(airflow_instance, "extractor_web", {"full_refresh": True})
    assert state == "success"
    log = airflow_instance.api().task_log("extractor_web", run_id, "extractor.web")
    assert "run-task extractor:web" in log and "--full-refresh" in log


def test_a_push_with_errors_is_rejected_and_the_running_dags_keep_working(airflow_instance: RunningAirflow) -> None:
    remote, api = airflow_instance.remote, airflow_instance.api()
    running = deployed_version(airflow_instance)

    def break_it(work: Path) -> None:
        (work / "extractors" / "crm.yaml").write_text("type: file\ntables:\n  - name: contacts\n    path: data/c.csv\n")

    remote.push("add crm without columns", break_it)
    run_id, state = run_dag(airflow_instance, "project_update")
    assert state == "failed"
    log = api.task_log("project_update", run_id, "update")
    assert "extractors/crm.yaml:3: tables[0].columns: required" in log
    assert f"still running {running}" in log
    assert deployed_version(airflow_instance) == running
    _, state = run_dag(airflow_instance, "extractor_reference")
    assert state == "success", "the previous version's DAGs still run"

    def fix_it(work: Path) -> None:
        (work / "extractors" / "crm.yaml").unlink()
        folder = work / "transformations" / "top_customers"
        folder.mkdir()
        (folder / "transformation.yaml").write_text(
            "type: sql\ndescription: Best customers by paid orders.\ninputs: [in_shop.orders]\noutputs: [ranking]\n"
        )
        (folder / "10_ranking.sql").write_text(
            "CREATE TABLE ranking AS SELECT customer_id, count(*) AS orders FROM orders GROUP BY customer_id;\n"
        )

    fixed = remote.push("fix crm, add top_customers", fix_it)
    _, state = run_dag(airflow_instance, "project_update")
    assert state == "success"
    assert deployed_version(airflow_instance) == fixed
    wait_for_dag(airflow_instance, "transformation_top_customers")
    _, state = run_dag(airflow_instance, "transformation_top_customers")
    assert state == "success"
    assert query(airflow_instance, "select count(*) as n from out_top_customers.ranking")[0]["n"] > 0


BEST_EFFORT = """
  - id: best_effort
    continue_on_error: true
    tasks: [[transformation:bad_sql, extractor:reference], extractor:web]
  - id: best_effort_ok
    continue_on_error: true
    tasks: [extractor:reference, extractor:web]
"""


def test_a_failing_task_fails_its_dag_with_the_task_error(airflow_instance: RunningAirflow) -> None:
    def add_bad_sql(work: Path) -> None:
        folder = work / "transformations" / "bad_sql"
        folder.mkdir()
        (folder / "transformation.yaml").write_text(
            "type: sql\ninputs: [in_shop.orders]\noutputs: [result]\nretries: 0\n"
        )
        (folder / "10_result.sql").write_text("CREATE TABLE result AS SELECT no_such_column FROM orders;\n")
        orchestrations = work / "orchestrations.yaml"
        orchestrations.write_text(orchestrations.read_text() + BEST_EFFORT)

    assert run_dag(airflow_instance, "extractor_shop")[1] == "success"  # the input exists: the SQL is what fails
    airflow_instance.remote.push("a transformation with a typo", add_bad_sql)
    _, state = run_dag(airflow_instance, "project_update")
    assert state == "success"
    for dag_id in ("transformation_bad_sql", "orchestration_best_effort", "orchestration_best_effort_ok"):
        wait_for_dag(airflow_instance, dag_id)
    run_id, state = run_dag(airflow_instance, "transformation_bad_sql")
    assert state == "failed"
    api = airflow_instance.api()
    log = api.task_log("transformation_bad_sql", run_id, "transformation.bad_sql")
    assert "transformations/bad_sql/10_result.sql: statement at line 1 failed" in log
    assert "no_such_column" in log

    # continue_on_error: the next step still runs, and the run still ends failed
    run_id, state = run_dag(airflow_instance, "orchestration_best_effort")
    assert state == "failed"
    assert api.task_instances("orchestration_best_effort", run_id) == {
        "transformation.bad_sql": "failed",
        "extractor.reference": "success",
        "extractor.web": "success",
        "fail_if_any_failed": "failed",
    }
    run_id, state = run_dag(airflow_instance, "orchestration_best_effort_ok")
    assert state == "success"
    assert api.task_instances("orchestration_best_effort_ok", run_id)["fail_if_any_failed"] == "skipped"


def test_no_secret_leaks_into_airflow_logs_state_or_warehouse(airflow_instance: RunningAirflow) -> None:
    """A task resolves ``${secret:...}`` and ``${env:...}`` and fails with them in its URL: the Airflow
    task log, Airflow's files and database, the state folder, storage and warehouse hold neither."""
    csv = b"id,city\n1,Praha\n2,Brno\n"

    def cities(handler) -> tuple[int, bytes]:
        ok = AIRFLOW_SECRET in handler.path and handler.headers.get("X-Api-Key") == AIRFLOW_ENV_VALUE
        return (200, csv) if ok else (403, b"forbidden")

    with serve({"/cities.csv": cities}) as base:

        def add_leaky(work: Path) -> None:
            (work / "extractors" / "leaky.yaml").write_text(
                "type: file\nretries: 0\ntables:\n"
                f'  - name: cities\n    url: "{base}/cities.csv?token=${{secret:leak_token}}"\n'
                '    headers: {X-Api-Key: "${env:LEAK_ENV_HEADER}"}\n    columns: {id: integer, city: string}\n'
                f'  - name: gone\n    url: "{base}/gone.csv?token=${{secret:leak_token}}"\n'
                "    columns: {id: integer}\n"
            )

        airflow_instance.remote.push("an extractor with secrets", add_leaky)
        assert run_dag(airflow_instance, "project_update")[1] == "success"
        wait_for_dag(airflow_instance, "extractor_leaky")
        run_id, state = run_dag(airflow_instance, "extractor_leaky")
    assert state == "failed"
    log = airflow_instance.api().task_log("extractor_leaky", run_id, "extractor.leaky")
    assert "in_leaky.cities: 2 rows loaded" in log, "the secrets were resolved and used"
    assert "gone.csv?token=***: HTTP 404" in log
    secrets = {"${secret:leak_token}": AIRFLOW_SECRET, "${env:LEAK_ENV_HEADER}": AIRFLOW_ENV_VALUE}
    history = query(airflow_instance, "select * from headrace_meta.task_runs")
    hits = leakscan.in_outputs({"Airflow task log": log, "headrace history": json.dumps(history)}, secrets)
    hits += leakscan.in_files([airflow_instance.home], secrets)
    assert hits == []


def test_the_trigger_command_says_what_airflow_refused(airflow_instance: RunningAirflow) -> None:
    """A DAG that does not exist, or a parameter its Params refuse: a one-line error, exit 2, no traceback."""
    missing = airflow_instance.headrace("airflow", "trigger", "no_such_dag", "--no-wait")
    assert missing.returncode == 2, missing.stdout + missing.stderr
    assert "Airflow refused to trigger no_such_dag:" in missing.stderr and "not found" in missing.stderr
    bad = airflow_instance.headrace(
        "airflow", "trigger", "headrace_sandbox", "--no-wait", "--conf", '{"action": "create", "user": "Eva!"}'
    )
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "Invalid input for param user: 'Eva!' does not match" in bad.stderr
    assert "Traceback" not in missing.stderr + bad.stderr
