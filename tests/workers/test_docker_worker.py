"""The ``docker`` worker end to end: ``headrace run`` of the example project with its extractors in
containers of the worker image (built once a session on a real Docker engine started by the tests)."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path

import pytest

from tests.emulators.dockerd import DATA_ROOT
from tests.helpers import headrace, run_ok, write_files

pytestmark = [pytest.mark.workers, pytest.mark.integration]

DATAMART_TABLES = ("dm_sales.revenue_by_month", "dm_sales.orders", "dm_marketing.conversion_by_country")


def with_worker(project: Path, docker_host: str) -> Path:
    text = (project / "project.yaml").read_text()
    (project / "project.yaml").write_text(f"{text}worker:\n  type: docker\n  docker_host: {docker_host}\n")
    return project


def started_tasks(docker_client, since: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Tasks whose containers the engine started since ``since`` (its event log: the containers are gone)."""
    events = docker_client.events(
        since=since,
        until=int(time.time()) + 1,
        decode=True,
        filters={"type": "container", "event": "start", "label": "headrace.task"},
    )
    return sorted(event["Actor"]["Attributes"]["headrace.task"] for event in events)


def rows(project: Path, table: str) -> list[dict]:
    return json.loads(
        run_ok("query", "--project", str(project), "--format", "json", f"SELECT * FROM {table} ORDER BY ALL").stdout
    )


def test_example_project_extracts_in_containers_with_the_rows_of_the_local_worker(
    docker_engine, docker_client, worker_image: str, tmp_path: Path
) -> None:
    local, contained = tmp_path / "local", tmp_path / "docker"
    run_ok("init", str(local))
    run_ok("init", str(contained))
    with_worker(contained, docker_engine.host)
    since = int(time.time()) - 1
    out = run_ok("run", "--project", str(contained), timeout=900).stdout
    assert "in_web.sessions: 6,000 rows loaded (full)" in out
    # the extractors ran in containers; the in-warehouse tasks (transformations, datamarts) did not
    assert started_tasks(docker_client, since) == ["extractor:reference", "extractor:shop", "extractor:web"]
    assert docker_client.containers.list(all=True, filters={"label": "headrace.task"}) == []
    run_ok("run", "--project", str(local))
    for table in DATAMART_TABLES:
        assert rows(contained, table) == rows(local, table), table
    assert len(rows(contained, "dm_sales.revenue_by_month")) == 60


def test_a_postgres_extractor_in_a_container_gets_its_secret_from_the_environment_and_no_file_keeps_it(
    docker_engine, docker_client, worker_image: str, pg_server, tmp_path: Path
) -> None:
    """The container reaches PostgreSQL on 127.0.0.1 (network host); the password is a
    ``${secret:...}`` given as HEADRACE_SECRET_* and handed to the task through its stdin.
    Afterwards no file under the engine's data root holds it (image layers, container
    folders, containerd's metadata database, which keeps a removed container's configured
    environment in its freed pages), nor the image's history."""
    secret = f"pg-s3cr3t-{secrets.token_hex(8)}"  # new each run: freed database pages may keep old bytes
    database = f"crm_{int(time.time())}"
    pg_server.create_database(database)
    with pg_server.connect(database) as con:
        con.execute(f"CREATE ROLE {database} LOGIN PASSWORD '{secret}'")
        con.execute("CREATE TABLE customers (id int PRIMARY KEY, name text)")
        con.execute("INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace')")
        con.execute(f"GRANT SELECT ON customers TO {database}")
    project = write_files(
        tmp_path / "p",
        {
            "project.yaml": f"name: pgx\nworker: {{type: docker, docker_host: '{docker_engine.host}'}}\n",
            "extractors/crm.yaml": f"""
                type: postgres
                connection: {{host: 127.0.0.1, port: {pg_server.port}, database: {database}, user: {database},
                              password: "${{secret:crm_password}}"}}
                tables:
                  - name: customers
                    source: public.customers
                """,
        },
    )
    since = int(time.time()) - 1
    done = headrace("run", "--project", str(project), env={"HEADRACE_SECRET_CRM_PASSWORD": secret}, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert started_tasks(docker_client, since) == ["extractor:crm"]
    assert rows(project, "in_crm.customers")[0]["name"] == "Ada"
    image = docker_client.images.get(worker_image)
    assert secret not in json.dumps(image.attrs) + json.dumps(image.history())
    holding = subprocess.run(["grep", "-rlF", secret, str(DATA_ROOT)], capture_output=True, text=True)
    assert holding.stdout == ""


def _example(tmp_path: Path, docker_host: str, extra: str = "") -> Path:
    project = tmp_path / "shop"
    run_ok("init", str(project))
    with_worker(project, docker_host)
    shop = project / "extractors" / "shop.yaml"
    shop.write_text(shop.read_text().replace("type: file\n", f"type: file\n{extra}", 1))
    run_ok("compile", str(project))
    return project


def test_a_task_past_its_timeout_is_stopped_cleans_up_and_its_container_is_removed(
    docker_engine, docker_client, worker_image: str, tmp_path: Path
) -> None:
    """The task waits at a failpoint with its load's transaction open until the timeout stops it."""
    project = _example(tmp_path, docker_engine.host, extra="timeout: 8s\n")
    done = headrace("run", "extractor:shop", "--project", str(project), env={"HEADRACE_FAULTS": "load.before_commit"})
    assert done.returncode != 0
    assert "FAULT load.before_commit" in done.stdout
    assert "timeout" in done.stdout + done.stderr
    assert docker_client.containers.list(all=True, filters={"label": "headrace.task=extractor:shop"}) == []
    status = json.loads(
        run_ok("query", "--project", str(project), "--format", "json",
               "SELECT status FROM headrace_meta.task_runs WHERE task_id = 'extractor:shop'").stdout
    )  # fmt: skip
    assert status == [{"status": "timeout"}]


def test_a_cancelled_task_gets_term_through_docker_init_and_its_container_is_removed(
    docker_engine, docker_client, worker_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from headrace.workers.base import EXIT_TERMINATED, TaskCall, WorkSpec
    from headrace.workers.docker import DockerWorkerConfig
    from headrace.workers.docker.worker import DockerWorker

    project = _example(tmp_path, docker_engine.host)
    monkeypatch.setenv("HEADRACE_FAULTS", "load.before_commit")
    worker = DockerWorker(DockerWorkerConfig(type="docker", docker_host=docker_engine.host))
    call = TaskCall("extractor:shop", project, "20250101T000000_cancel")
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        if line.startswith("FAULT "):
            threading.Thread(target=worker.cancel).start()

    outcome = worker.run(WorkSpec(call.command(), timeout_s=600, task=call), on_line)
    assert outcome.cancelled and outcome.returncode == EXIT_TERMINATED  # the task ended itself after TERM
    assert outcome.task_result("extractor:shop", 600).status == "cancelled"
    assert docker_client.containers.list(all=True, filters={"label": "headrace.task=extractor:shop"}) == []


def test_a_missing_worker_image_of_another_name_fails_the_task_as_a_config_error(docker_engine, tmp_path: Path) -> None:
    from headrace.workers.base import TaskCall, WorkSpec
    from headrace.workers.docker import DockerWorkerConfig
    from headrace.workers.docker.worker import DockerWorker

    config = DockerWorkerConfig(type="docker", docker_host=docker_engine.host, image="acme/headrace-custom:9")
    call = TaskCall("extractor:shop", tmp_path, "20250101T000000_missing")
    outcome = DockerWorker(config).run(WorkSpec(call.command(), task=call), lambda line: None)
    result = outcome.task_result("extractor:shop", None)
    assert result.status == "failed" and result.error_class == "config"
    assert result.error is not None and "the image acme/headrace-custom:9 is not on the Docker engine" in result.error


def test_on_a_remote_engine_the_project_is_copied_in_and_the_task_loads_a_network_warehouse(
    docker_engine, worker_image: str, pg_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request
) -> None:
    """``local_engine=False`` (as over ssh://): no bind mount; the project folder is copied into the
    container, its state stays there; PostgreSQL source and warehouse are reached over the network."""
    from headrace.workers.base import TaskCall, WorkSpec
    from headrace.workers.docker import ContainerSettings
    from headrace.workers.docker.engine import connect
    from headrace.workers.docker.worker import ContainerRunner

    from tests.pgserver import fresh_database
    from tests.postgres import project as pgproject

    source, warehouse = fresh_database(pg_server, request), fresh_database(pg_server, request)
    project = pgproject.make(tmp_path / "p", pg_server, source, warehouse)
    run_ok("compile", str(project), env=pgproject.env(pg_server))
    for name, value in pgproject.env(pg_server).items():
        monkeypatch.setenv(name, value)
    runner = ContainerRunner(lambda: connect(docker_engine.host), ContainerSettings(), local_engine=False)
    call = TaskCall("extractor:src", project, "20250101T000000_remote")
    lines: list[str] = []
    outcome = runner.run(WorkSpec(call.command(), task=call), lines.append)
    assert outcome.returncode == 0, "\n".join(lines)
    assert outcome.result is not None and outcome.result.tables == {"in_src.people": 3, "in_src.salaries": 3}
    assert not (project / ".headrace" / "storage").exists()  # the state stayed in the container
    with pg_server.connect(warehouse) as con:
        assert con.execute("SELECT count(*) FROM in_src.people").fetchone() == (3,)


def test_the_copy_of_a_project_leaves_out_git_secrets_and_state(tmp_path: Path) -> None:
    import io
    import tarfile

    from headrace.workers.docker.taskenv import skip_in_copy
    from headrace.workers.docker.transfer import pack

    project = write_files(
        tmp_path / "p",
        {
            "project.yaml": "name: p\n",
            ".secrets.yaml": "pw: x\n",
            ".git/config": "",
            ".headrace/manifest.json": "{}",
            ".headrace/warehouse.duckdb": "",
            ".headrace/storage/raw/x.csv": "",
        },
    )
    stream = io.BytesIO(b"".join(pack(project, "headrace/project", skip_in_copy(project, project / ".headrace"))))
    with tarfile.open(fileobj=stream) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
    assert names == ["headrace/project/.headrace/manifest.json", "headrace/project/project.yaml"]


def test_the_worker_image_runs_this_version_and_names_its_wheel(docker_client, worker_image: str) -> None:
    import re

    from headrace import __version__

    image = docker_client.images.get(worker_image)
    assert re.fullmatch(r"[0-9a-f]{64}", image.labels["headrace.wheel.sha256"])
    assert image.labels["org.opencontainers.image.version"] == __version__
    assert image.labels["headrace.wheel"].startswith(f"headrace-{__version__}-")
    out = docker_client.containers.run(worker_image, ["--version"], remove=True, network_mode="host")
    assert out.decode().strip() == f"headrace, version {__version__}"
    # the postgres extractor's parallel range reads need psql in the image (else one stream)
    out = docker_client.containers.run(worker_image, ["--version"], entrypoint="psql", remove=True)
    assert out.decode().startswith("psql (PostgreSQL) 15")


def test_a_state_folder_outside_the_project_is_mounted_at_its_own_path(
    docker_engine, worker_image: str, tmp_path: Path, state_env: Path
) -> None:
    """HEADRACE_STATE_DIR (as the Airflow install sets it: the state survives a project swap)."""
    project = _example(tmp_path, docker_engine.host)
    out = run_ok("run", "extractor:web", "--project", str(project)).stdout
    assert "in_web.sessions: 6,000 rows loaded (full)" in out
    assert (state_env / "warehouse.duckdb").is_file() and not (project / ".headrace" / "warehouse.duckdb").exists()
    assert rows(project, "(SELECT count(*) AS n FROM in_web.sessions)") == [{"n": 6000}]


def test_an_engine_that_does_not_answer_fails_the_task_as_transient(tmp_path: Path) -> None:
    from headrace.workers.base import TaskCall, WorkSpec
    from headrace.workers.docker import DockerWorkerConfig
    from headrace.workers.docker.worker import DockerWorker

    dead = f"unix://{tmp_path}/docker.sock"
    call = TaskCall("extractor:shop", tmp_path, "20250101T000000_dead")
    worker = DockerWorker(DockerWorkerConfig(type="docker", docker_host=dead))
    result = worker.run(WorkSpec(call.command(), task=call), lambda line: None).task_result("extractor:shop", None)
    assert result.status == "failed" and result.error_class == "transient"
    assert result.error is not None and f"the Docker engine at {dead} does not answer" in result.error
