"""``headrace run-task`` reports its error class in its exit status and in its typed result line.

Workers and the Airflow operator decide retries from these two: exit 2 / ``config`` is never
retried, exit 75 / ``transient`` is retried with backoff (DESIGN §5).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import headrace, run_ok, write_files
from tests.pgserver import free_port

pytestmark = pytest.mark.integration

RESULT = "HEADRACE_RESULT "


def postgres_extractor_project(root: Path, port: int, password: str) -> Path:
    return write_files(
        root,
        {
            "project.yaml": "name: errors\ndefaults: {retries: 2, retry_delay: 1}\n",
            "extractors/crm.yaml": f"""
                type: postgres
                connection: {{host: 127.0.0.1, port: {port}, database: crm, user: reader, password: "{password}"}}
                tables:
                  - name: customers
                    source: public.customers
                """,
        },
    )


def run_task(project: Path, task: str) -> tuple[int, dict, str]:
    """Exit status, the parsed HEADRACE_RESULT line and stderr of ``headrace run-task``."""
    run_ok("compile", str(project))
    done = headrace("run-task", task, "--project", str(project), "--run-id", "20250101T000000_errors")
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    assert len(lines) == 1, f"exactly one result line expected:\n{done.stdout}\n{done.stderr}"
    return done.returncode, json.loads(lines[0][len(RESULT) :]), done.stderr


def test_a_missing_secret_exits_2_with_a_config_result(tmp_path: Path, state_env: Path) -> None:
    project = postgres_extractor_project(tmp_path / "p", free_port(), "${secret:NOPE}")
    code, result, stderr = run_task(project, "extractor:crm")
    assert code == 2, stderr
    assert result["task_id"] == "extractor:crm"
    assert result["status"] == "failed"
    assert result["error_class"] == "config"
    assert result["duration_s"] > 0, "a failed task still reports how long it ran (the run summary shows it)"
    assert (
        "extractors/crm.yaml: connection.password: secret 'NOPE' is not set: export HEADRACE_SECRET_NOPE=..."
        in (result["error"])
    ), "the message names the file and key that reference the secret, and how to set it"
    assert "secret 'NOPE' is not set" in stderr, "the message is also shown to whoever runs the command"
    history = json.loads(
        run_ok(
            "query",
            "SELECT task_id, status, error FROM headrace_meta.task_runs",
            "--project",
            str(project),
            "--format",
            "json",
        ).stdout
    )
    assert [(h["task_id"], h["status"]) for h in history] == [("extractor:crm", "failed")]
    assert "secret 'NOPE' is not set" in history[0]["error"]


def test_a_refused_connection_exits_75_with_a_transient_result(tmp_path: Path, state_env: Path) -> None:
    project = postgres_extractor_project(tmp_path / "p", free_port(), "not-needed")
    code, result, stderr = run_task(project, "extractor:crm")
    assert "cannot connect to PostgreSQL at 127.0.0.1" in result["error"]
    assert (code, result["error_class"]) == (75, "transient"), stderr
