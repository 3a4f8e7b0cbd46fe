"""Container components on a real Docker engine: the shipped shell example as an extractor and as
a transformation, and what Headrace does with a component that fails or breaks the contract.

The images are built on the session's engine from the project's folders (FROM Headrace's
Debian base, imported from Debian's packages: nothing is pulled)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from headrace.paths import manifest_path
from headrace.project.compile import compile_project
from headrace.project.manifest import read_manifest
from headrace.runner import TaskError, run_task

from tests.components import project as components
from tests.emulators.dockerd import DATA_ROOT
from tests.helpers import headrace, open_test_warehouse, run_ok
from tests.pgserver import PgServer, fresh_database, warehouse_block

pytestmark = [pytest.mark.workers, pytest.mark.integration]

GREETINGS = [(1, "hello", "ada"), (2, "hello", "grace"), (3, "hello", "linus")]
SHOUTED = [(1, "HELLO!", "ada"), (2, "HELLO!", "grace"), (3, "HELLO!", "linus")]
TABLES = [{"name": "first"}, {"name": "items"}]
HOSTILE = {
    "undeclared": {"config": {"mode": "undeclared"}, "tables": TABLES},
    "lying": {"config": {"mode": "lying_schema"}, "tables": TABLES},
    "escape": {"config": {"mode": "escape"}, "tables": TABLES},
    "fails": {"config": {"mode": "fails"}, "tables": TABLES},
    "sleepy": {"config": {"mode": "sleep"}, "tables": TABLES},
    "bad_config": {"config": {"mode": "config_error"}, "tables": TABLES, "retries": 2},
    "secret": {
        "config": {"mode": "secret"},
        "env": {"API_TOKEN": "${secret:api_token}"},
        "tables": [{"name": "tokens"}],
    },
}
TOKEN = "tok-3f9c2a71d5e84b06"


def _rows(state: Path, sql: str) -> list[tuple]:
    with open_test_warehouse({"type": "duckdb"}, state) as wh:
        return wh.query(sql)[1]


def _schemas(state: Path) -> set[str]:
    return {row[0] for row in _rows(state, "SELECT schema_name FROM information_schema.schemata")}


@pytest.fixture(scope="module")
def project(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = components.make(tmp_path_factory.mktemp("containers") / "p", hostile=HOSTILE)
    compile_project(root)
    return root


def test_the_example_runs_as_an_extractor_and_a_transformation(project: Path) -> None:
    state = project / ".headrace"
    done = run_ok("run", "extractor:hello", "transformation:shout", "--project", str(project), timeout=600)
    assert "wrote 3 greeting(s)" in done.stdout  # the container's own log line, in the task's log
    assert _rows(state, "SELECT id, greeting, name FROM in_hello.greetings ORDER BY id") == GREETINGS
    assert _rows(state, "SELECT id, greeting, name FROM out_shout.shouted ORDER BY id") == SHOUTED
    manifest = read_manifest(manifest_path(project))
    task = manifest.task("transformation:shout")
    assert task.runs_on == "local" and task.container is not None and task.container.worker == "docker"


def test_the_example_runs_on_postgresql(
    docker_host: str, tmp_path: Path, pg_server: PgServer, request: pytest.FixtureRequest
) -> None:
    block, env = warehouse_block(pg_server, fresh_database(pg_server, request))
    project = components.make(tmp_path / "p", warehouse=block)
    env["HEADRACE_STATE_DIR"] = str(tmp_path / "state")
    run_ok("run", "extractor:hello", "transformation:shout", "--project", str(project), env=env, timeout=600)
    with open_test_warehouse(block, tmp_path / "state", env) as wh:
        assert wh.query("SELECT id, greeting, name FROM in_hello.greetings ORDER BY id")[1] == GREETINGS
        assert wh.query("SELECT id, greeting, name FROM out_shout.shouted ORDER BY id")[1] == SHOUTED


def _fails(project: Path, task_id: str) -> TaskError:
    manifest = read_manifest(manifest_path(project))
    lines: list[str] = []
    with pytest.raises(TaskError) as info:
        run_task(manifest, task_id, project, f"run-{task_id.split(':')[1]}", log=lines.append)
    return info.value


@pytest.mark.parametrize(
    ("ext_id", "expected"),
    [
        ("undeclared", "the container wrote /data/out/tables/extra, a table it does not declare"),
        (
            "lying",
            "table 'items': part-00000.csv starts with the header (id, name) but schema.json declares "
            "(id, name, amount)",
        ),
        ("escape", "refused the entry 'out/tables/items/part-00000.csv': a link"),
        ("fails", "failed with exit code 3; its last lines:\nattempt: fails\nsomething broke at line 42"),
    ],
)
def test_a_component_that_breaks_the_contract_loads_nothing(project: Path, ext_id: str, expected: str) -> None:
    error = _fails(project, f"extractor:{ext_id}")
    message = str(error)
    assert message.startswith(f"extractors/{ext_id}.yaml: "), message
    assert expected in message, message
    assert "nothing was loaded" in message
    assert error.error_class == "task"
    assert f"in_{ext_id}" not in _schemas(project / ".headrace")  # not even the good table "first"


def test_exit_code_2_is_a_configuration_error_and_is_not_retried(project: Path) -> None:
    result = headrace("run", "extractor:bad_config", "--project", str(project), timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert out.count("running headrace-component-hostile:") == 1, out  # retries: 2, yet one run
    assert "exited with code 2, a configuration error (not retried)" in out
    assert "config: endpoint is required" in out


def test_a_secret_in_env_reaches_the_container_and_nothing_else(project: Path) -> None:
    env = {"HEADRACE_SECRET_API_TOKEN": TOKEN}
    done = run_ok("run", "extractor:secret", "--project", str(project), env=env, timeout=600)
    state = project / ".headrace"
    assert _rows(state, "SELECT token_length FROM in_secret.tokens") == [(len(TOKEN),)]  # it had the value
    out = done.stdout + done.stderr
    assert "calling the API with token" in out and TOKEN not in out  # the container printed it: redacted
    assert _files_holding(project, TOKEN) == []  # the project, its state, storage, warehouse and manifest


def _files_holding(top: Path, value: str) -> list[Path]:
    found = []
    for folder, _, files in os.walk(top):
        for name in files:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink() and value.encode() in path.read_bytes():
                found.append(path)
    return found


def test_the_docker_engine_keeps_no_secret_of_a_component(project: Path) -> None:
    token = "tok-engine-5be0c4d2a9"
    run_ok("run", "extractor:secret", "--project", str(project), env={"HEADRACE_SECRET_API_TOKEN": token})
    assert _files_holding(DATA_ROOT, token) == []


def test_a_stopped_task_stops_and_removes_its_container(project: Path, docker_host: str) -> None:
    import docker

    command = [sys.executable, "-m", "headrace", "run-task", "extractor:sleepy", "--project", str(project)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*command, "--run-id", "stop-1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # until the container is running
        seen.append(line)
        if "started, sleeping" in line:
            break
    proc.send_signal(signal.SIGTERM)  # what a worker's cancel, Airflow's on_kill or a timeout sends
    rest = proc.communicate(timeout=120)[0]
    assert proc.returncode == 143, "".join(seen) + rest
    client = docker.DockerClient(base_url=docker_host)
    try:
        left = client.containers.list(all=True, filters={"label": "headrace.task=extractor:sleepy"})
    finally:
        client.close()
    assert left == []
    assert "in_sleepy" not in _schemas(project / ".headrace")
