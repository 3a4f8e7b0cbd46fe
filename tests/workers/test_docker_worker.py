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
