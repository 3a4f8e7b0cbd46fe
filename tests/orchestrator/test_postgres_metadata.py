"""The local Airflow with PostgreSQL as its metadata database (what the cloud install uses)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.orchestrator.support import HEADRACE, copy_template, free_port
from tests.pgserver import PgServer

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def test_up_with_a_postgres_metadata_database_runs_dags(tmp_path: Path, pg_server: PgServer, pg_database: str) -> None:
    project = copy_template(tmp_path / "project")
    url = f"postgresql+psycopg://postgres:{pg_server.password}@{pg_server.host}:{pg_server.port}/{pg_database}"
    port = free_port()

    def headrace(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*HEADRACE, *args], capture_output=True, text=True, check=False)

    try:
        up = headrace("airflow", "up", "--project", str(project), "--port", str(port), "--db-url", url)
        assert up.returncode == 0, up.stdout + up.stderr
        run = headrace("airflow", "trigger", "extractor_reference", "--project", str(project))
        assert run.returncode == 0, run.stdout + run.stderr
        assert "extractor_reference succeeded" in run.stdout
    finally:
        headrace("airflow", "down", "--project", str(project))
    with pg_server.connect(pg_database) as con:
        dags = {row[0] for row in con.execute("SELECT dag_id FROM dag").fetchall()}
        runs = con.execute("SELECT state FROM dag_run WHERE dag_id = 'extractor_reference'").fetchall()
    assert {"orchestration_daily", "project_update", "extractor_reference"} <= dags
    assert runs == [("success",)]
