"""A dbt transformation in Airflow: one task that runs `headrace run-task transformation:<id>` (dbt's
one invocation); parsing the DAG file runs no dbt, no subprocess, reads only the manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dbt.conftest import shop_project
from tests.orchestrator.test_dags import compiled, load_dagbag

pytestmark = pytest.mark.airflow


def test_a_dbt_transformation_is_one_airflow_task_and_parsing_runs_no_dbt(tmp_path: Path, dbt_python: dict) -> None:
    project = shop_project(tmp_path / "shop")
    manifest = compiled(project)
    dags = load_dagbag(tmp_path, manifest)
    assert dags["import_errors"] == {}
    tasks = dags["dags"]["transformation_shop_dbt"]["tasks"]
    assert list(tasks) == ["transformation.shop_dbt"]
    assert tasks["transformation.shop_dbt"]["headrace_task"] == "transformation:shop_dbt"
    assert tasks["transformation.shop_dbt"]["operator"] == "HeadraceTaskOperator"

    script = Path(__file__).parents[1] / "orchestrator" / "audit_parse.py"
    dag_file = Path(__file__).parents[2] / "orchestrator" / "dags" / "headrace_dags.py"
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "HEADRACE_MANIFEST": str(manifest)}
    done = subprocess.run([sys.executable, str(script), str(dag_file)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["forbidden"] == [] and report["data_files"] == [str(manifest)]
