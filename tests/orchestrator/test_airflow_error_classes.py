"""Error classes survive a real Airflow 3 run (DESIGN §5).

A configuration error (a missing secret) ends the task with exit code 2 and Airflow fails it
at once, whatever its ``retries``; any other failure (here a refused connection) is tried
again after ``defaults.retry_delay``, with exponential backoff. One push adds both
extractors to the session's deployed project.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.orchestrator.support import RunningAirflow, free_port
from tests.orchestrator.test_airflow_e2e import run_dag, wait_for_dag

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

NO_SECRET = """
type: postgres
description: its password is a secret nobody set
retries: 2
connection: {host: 127.0.0.1, port: 5432, database: crm, user: reader, password: "${secret:NOPE}"}
tables:
  - name: customers
    source: public.customers
"""

REFUSED = """
type: postgres
description: nothing listens on its port
retries: 1
connection: {{host: 127.0.0.1, port: {port}, database: crm, user: reader, password: not-a-secret}}
tables:
  - name: customers
    source: public.customers
"""


@pytest.fixture(scope="module")
def failing_extractors(airflow_instance: RunningAirflow) -> RunningAirflow:
    """Push two failing extractors and a 1 s retry delay, deploy them, wait for their DAGs."""
    port = free_port()  # bound and released: connecting to it is refused

    def add(work: Path) -> None:
        (work / "extractors" / "nosecret.yaml").write_text(NO_SECRET)
        (work / "extractors" / "refused.yaml").write_text(REFUSED.format(port=port))
        project = work / "project.yaml"
        text = project.read_text()
        assert "  retries: 1\n" in text
        project.write_text(text.replace("  retries: 1\n", "  retries: 1\n  retry_delay: 1\n"))

    airflow_instance.remote.push("extractors that fail: a missing secret, a refused connection", add)
    run_id, state = run_dag(airflow_instance, "project_update")
    assert state == "success", airflow_instance.api().task_log("project_update", run_id, "update")
    for dag_id in ("extractor_nosecret", "extractor_refused"):
        wait_for_dag(airflow_instance, dag_id)
    return airflow_instance


def task_instance(airflow: RunningAirflow, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    path = f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances/{urllib.parse.quote(task_id)}"
    return airflow.api().call("GET", path)


def test_a_missing_secret_fails_the_task_once_without_retries(failing_extractors: RunningAirflow) -> None:
    run_id, state = run_dag(failing_extractors, "extractor_nosecret")
    assert state == "failed"
    ti = task_instance(failing_extractors, "extractor_nosecret", run_id, "extractor.nosecret")
    assert ti["max_tries"] == 2, "the task has retries configured..."
    assert (ti["state"], ti["try_number"]) == ("failed", 1), "...and a configuration error uses none of them"
    log = failing_extractors.api().task_log("extractor_nosecret", run_id, "extractor.nosecret")
    assert (
        "AirflowFailException: extractors/nosecret.yaml: connection.password: secret 'NOPE' is not set: "
        "export HEADRACE_SECRET_NOPE=..."
    ) in log
    assert "(configuration error: fix the project or the deployment)" in log


def test_a_refused_connection_is_retried_before_the_task_fails(failing_extractors: RunningAirflow) -> None:
    run_id, state = run_dag(failing_extractors, "extractor_refused")
    assert state == "failed"
    ti = task_instance(failing_extractors, "extractor_refused", run_id, "extractor.refused")
    assert (ti["state"], ti["try_number"], ti["max_tries"]) == ("failed", 2, 1)
    api = failing_extractors.api()
    first, second = (api.task_log("extractor_refused", run_id, "extractor.refused", n) for n in (1, 2))
    for log in (first, second):
        assert "AirflowException: 1 of 1 table(s) failed" in log
        assert "cannot connect to PostgreSQL at 127.0.0.1" in log and "Connection refused" in log
    assert "AirflowFailException" not in first + second
    # each try runs under its own Headrace run id, so a retry never meets what the first try left
    assert "--run-id" in second and "_2 (project version" in second
