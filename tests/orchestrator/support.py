"""Helpers and fixtures for the Airflow tests: the example project in a git remote, and one real Airflow 3.

The Airflow instance is started once per test session with the real CLI
(``headrace airflow up``) on a free port of 127.0.0.1 and stopped by process group
(``headrace airflow down``) at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from headrace.orchestrator.api import AirflowApi

from tests.helpers import TEMPLATE

HEADRACE = [sys.executable, "-m", "headrace"]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Headrace Tests",
    "GIT_AUTHOR_EMAIL": "tests@headrace.invalid",
    "GIT_COMMITTER_NAME": "Headrace Tests",
    "GIT_COMMITTER_EMAIL": "tests@headrace.invalid",
}


# known values the Airflow of the tests can resolve; tests/orchestrator/test_airflow_e2e.py uses them in a
# project and scans everything Airflow wrote for them
AIRFLOW_SECRET = "AfSecr3t-Token-5b7c"
AIRFLOW_ENV_VALUE = "AfEnv-Header-9d2e"


def copy_template(target: Path) -> Path:
    shutil.copytree(
        TEMPLATE, target, ignore=shutil.ignore_patterns(".headrace", "__pycache__", "__init__.py", ".secrets.yaml")
    )
    return target


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


@dataclass
class ProjectRemote:
    """A bare repository (what HEADRACE_PROJECT_REPO points at) and a clone to push from."""

    bare: Path
    work: Path

    def push(self, message: str, change: Callable[[Path], None]) -> str:
        change(self.work)
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", "main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.work)


def make_remote(root: Path) -> ProjectRemote:
    bare, work = root / "remote.git", root / "work"
    git("init", "--quiet", "--bare", "-b", "main", str(bare), cwd=root)
    copy_template(work)
    git("init", "--quiet", "-b", "main", cwd=work)
    git("remote", "add", "origin", str(bare), cwd=work)
    remote = ProjectRemote(bare, work)
    remote.push("the example project", lambda _w: None)
    return remote


@pytest.fixture
def project_remote(tmp_path: Path) -> ProjectRemote:
    return make_remote(tmp_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningAirflow:
    url: str
    home: Path
    remote: ProjectRemote
    password: str
    env: dict[str, str]

    def api(self) -> AirflowApi:

        return AirflowApi(self.url, "admin", self.password)

    def headrace(self, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {**self.env, **(env_extra or {})}
        return subprocess.run([*HEADRACE, *args], env=env, capture_output=True, text=True, check=False)


def _logs(home: Path) -> str:
    parts = []
    for path in sorted((home / "airflow").glob("**/*.log"))[:12]:
        if "dag_id=" not in str(path):
            parts.append(f"--- {path}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:]))
    return "\n".join(parts)


@pytest.fixture(scope="session")
def airflow_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAirflow]:
    """A real Airflow 3 deployed from a git remote of the example project, for the whole session."""
    root = tmp_path_factory.mktemp("airflow")
    remote = make_remote(root)
    home = root / "home"
    env = {
        **os.environ,
        "HEADRACE_HOME": str(home),
        "HEADRACE_UPDATE_SCHEDULE": "none",  # tests trigger project_update themselves
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__API__WORKERS": "1",
        "HEADRACE_DOCS_REFRESH_S": "1",  # the Headrace page reads the warehouse again at once
        "HEADRACE_SECRET_LEAK_TOKEN": AIRFLOW_SECRET,
        "LEAK_ENV_HEADER": AIRFLOW_ENV_VALUE,
    }
    for key in ("HEADRACE_MANIFEST", "HEADRACE_STATE_DIR", "HEADRACE_PROJECT_REPO", "HEADRACE_PROJECT_SOURCE"):
        env.pop(key, None)
    port = free_port()
    up = subprocess.run(
        [*HEADRACE, "airflow", "up", "--repo", str(remote.bare), "--port", str(port), "--parallelism", "3"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        assert up.returncode == 0, f"headrace airflow up failed:\n{up.stdout}\n{up.stderr}\n{_logs(home)}"
        password = json.loads((home / "airflow" / "admin-password.json").read_text())["admin"]
        assert password in up.stdout, "the generated password is shown once, by up"
        yield RunningAirflow(f"http://127.0.0.1:{port}", home, remote, password, env)
    finally:
        subprocess.run([*HEADRACE, "airflow", "down"], env=env, capture_output=True, text=True, check=False)


def on_postgres(project: Path, worker: str | None = None) -> Path:
    """The example project on a PostgreSQL warehouse (compiles without a server), optionally with another worker."""
    config = project / "project.yaml"
    text = config.read_text()
    start = text.index("warehouse:")
    end = text.index("storage:")
    block = "warehouse: {type: postgres, host: 127.0.0.1, database: shop, user: headrace}\n"
    block += f"worker: {{type: {worker}}}\n" if worker else ""
    config.write_text(text[:start] + block + text[end:])
    return project
