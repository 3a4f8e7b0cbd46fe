"""``headrace airflow`` commands that need no running Airflow: install-dags, refusals of up, status."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.orchestrator.support import HEADRACE, ProjectRemote, copy_template

pytestmark = pytest.mark.unit


def headrace(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HEADRACE_", "AIRFLOW__"))}
    return subprocess.run([*HEADRACE, *args], env={**clean, **(env or {})}, capture_output=True, text=True, check=False)


def test_install_dags_copies_the_static_file_once(tmp_path: Path) -> None:
    dags = tmp_path / "airflow" / "dags"
    first = headrace("airflow", "install-dags", str(dags))
    assert first.returncode == 0, first.stderr
    installed = dags / "headrace_dags.py"
    assert installed.read_bytes() == (REPO / "orchestrator" / "dags" / "headrace_dags.py").read_bytes()
    os.utime(installed, (1_000_000, 1_000_000))
    assert headrace("airflow", "install-dags", str(dags)).returncode == 0
    assert installed.stat().st_mtime == 1_000_000, "an unchanged file is not rewritten (Airflow would re-parse it)"


def test_up_refuses_an_invalid_project_before_starting_anything(tmp_path: Path) -> None:
    project = copy_template(tmp_path / "project")
    (project / "orchestrations.yaml").write_text("orchestrations:\n  - id: daily\n    tasks: [transformation:sale]\n")
    up = headrace("airflow", "up", "--project", str(project), "--port", "1")
    assert up.returncode == 2
    assert "orchestrations.yaml:3: orchestrations[0].tasks[0]: 'transformation:sale' does not exist" in up.stderr
    assert not (project / ".headrace" / "airflow" / "airflow" / "launch.json").exists()


def test_up_on_a_busy_port_says_so_and_leaves_nothing_running(tmp_path: Path) -> None:
    project = copy_template(tmp_path / "project")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        up = headrace("airflow", "up", "--project", str(project), "--port", str(port))
    assert up.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use: pass another one with --port" in up.stderr
    home = project / ".headrace" / "airflow"
    assert not (home / "airflow" / "launch.json").exists()
    password_file = home / "airflow" / "admin-password.json"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600, "the admin password is readable by its owner only"
    assert headrace("airflow", "status", "--project", str(project)).stdout.count("stopped") == 1


def test_status_shows_why_the_last_update_was_rejected(tmp_path: Path, project_remote: ProjectRemote) -> None:
    env = {"HEADRACE_HOME": str(tmp_path / "home"), "HEADRACE_PROJECT_REPO": str(project_remote.bare)}
    assert headrace("airflow", "update-project", env=env).returncode == 0
    good = project_remote.head()
    project_remote.push(
        "typo", lambda w: (w / "datamarts.yaml").write_text("datamarts:\n  - id: x\n    tables: [out_nope.t]\n")
    )
    assert headrace("airflow", "update-project", env=env).returncode == 2
    status = headrace("airflow", "status", env=env).stdout
    assert f"deployed:    {good} from {project_remote.bare}" in status
    assert f"last update: invalid {project_remote.head()}" in status
    assert "datamarts.yaml:3: datamarts[0].tables[0]: no extractor or transformation produces 'out_nope.t'" in status


def test_the_airflow_commands_load_no_airflow_until_used() -> None:
    """Every `headrace` command registers the airflow group: it must stay cheap to import."""
    code = (
        "import sys; from headrace.cli import _register; _register();"
        "print(','.join(m for m in ('airflow', 'psycopg', 'duckdb', 'pydantic') if m in sys.modules))"
    )
    done = subprocess.run([*HEADRACE[:1], "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
