"""``secrets: {type: airflow}`` with real Airflow code (the Task SDK), no server.

Variables and Connections come from ``AIRFLOW_VAR_*`` / ``AIRFLOW_CONN_*`` environment
variables, which the Task SDK reads in any process; they also stand in for the metastore
when the operator's hand-off is tested (the operator itself reaches the metastore only
inside a running Airflow task: tests/orchestrator/test_airflow_e2e.py runs one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.airflow]
CHILD = Path(__file__).parent / "airflow_child.py"
CONN = json.dumps(
    {"conn_type": "postgres", "host": "db.internal", "login": "crm_reader", "password": "Af-Conn-Pa55", "port": 5432}
)


def child(tmp_path: Path, *args: str, env: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_VAR_", "AIRFLOW_CONN_", "HEADRACE_"))}
    done = subprocess.run(
        [sys.executable, str(CHILD), *args],
        env={**base, "AIRFLOW_HOME": str(tmp_path / "airflow"), "PYTHONPATH": str(Path(__file__).parents[2]), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_variables_and_connection_fields_resolve(tmp_path: Path) -> None:
    env = {"AIRFLOW_VAR_API_TOKEN": "Af-Var-T0ken", "AIRFLOW_CONN_CRM_DB": CONN}
    got = child(
        tmp_path,
        "resolve",
        "api_token",
        "conn__crm_db__password",
        "conn__crm_db__login",
        "conn__crm_db__port",
        "missing_var",
        "conn__nope__password",
        "conn__crm_db__colour",
        env=env,
    )
    assert got["api_token"] == "Af-Var-T0ken"
    assert got["conn__crm_db__password"] == "Af-Conn-Pa55"
    assert got["conn__crm_db__login"] == "crm_reader"
    assert got["conn__crm_db__port"] == "5432"
    assert "no Airflow Variable 'missing_var'" in got["missing_var"] and "AIRFLOW_VAR_MISSING_VAR" in got["missing_var"]
    assert "no Airflow Connection 'nope'" in got["conn__nope__password"]
    assert "'colour' is not a field" in got["conn__crm_db__colour"]


def test_the_operator_hands_only_referenced_values_to_its_task(tmp_path: Path) -> None:
    """What the operator looks up (here from the environment, as from the metastore) resolves in a task
    process that has nothing but the hand-off."""
    airflow_side = {"AIRFLOW_VAR_API_TOKEN": "Af-Var-T0ken", "AIRFLOW_VAR_UNUSED": "x", "AIRFLOW_CONN_CRM_DB": CONN}
    handed = child(tmp_path, "handoff", "api_token", "conn__crm_db__password", "not_there", env=airflow_side)
    assert set(handed) == {"AIRFLOW_VAR_API_TOKEN", "AIRFLOW_CONN_CRM_DB"}
    got = child(tmp_path, "resolve", "api_token", "conn__crm_db__password", env=handed)
    assert got == {"api_token": "Af-Var-T0ken", "conn__crm_db__password": "Af-Conn-Pa55"}
