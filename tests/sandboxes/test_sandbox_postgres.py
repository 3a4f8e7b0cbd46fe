"""Sandboxes on PostgreSQL: the sandbox's own login, queried "from a SQL client" (psql and psycopg
with exactly the printed details), reads its inputs and writes its schema, and nothing else;
drop and the sweep remove schema, role and stored password; passwords stay out of the warehouse."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import run_ok
from tests.pgserver import WAREHOUSE_USER, PgServer, fresh_database
from tests.postgres import project as pgproject
from tests.postgres.source import execute

pytestmark = pytest.mark.integration

ALICE = "sb_alice__teams"
BOB = "sb_bob__teams"


@pytest.fixture
def setup(
    pg_server: PgServer, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[PgServer, str, Path]:
    for key, value in pgproject.env(pg_server).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(tmp_path / "state"))
    src, wh = fresh_database(pg_server, request), fresh_database(pg_server, request)
    project = pgproject.make(tmp_path / "p", pg_server, src, wh, readers=["bi_reader"])
    request.addfinalizer(lambda: _drop_roles(pg_server, wh))
    run_ok("run", "--project", str(project))  # in_src, out_teams, dm_people exist
    return pg_server, wh, project


def _drop_roles(server: PgServer, wh: str) -> None:
    for (role,) in execute(
        server, wh, "SELECT rolname FROM pg_roles WHERE rolname LIKE 'sb\\_%' OR rolname = 'bi_reader'"
    ):
        execute(server, wh, f'DROP OWNED BY "{role}" CASCADE; DROP ROLE "{role}"')


def _create(project: Path, user: str) -> dict:
    out = run_ok("sandbox", "create", "teams", "--user", user, "--project", str(project), "--format", "json").stdout
    return json.loads(out)


def _stored(state: Path) -> dict:
    file = state / "credentials.yaml"
    return yaml.safe_load(file.read_text()) or {} if file.exists() else {}


def test_sandbox_login_reads_its_inputs_and_nothing_else(setup: tuple[PgServer, str, Path], tmp_path: Path) -> None:
    import psycopg

    server, wh, project = setup
    alice = _create(project, "alice")
    bob = _create(project, "bob")
    assert (alice["host"], alice["port"], alice["database"], alice["user"], alice["schema"]) == (
        "127.0.0.1",
        server.port,
        wh,
        ALICE,
        ALICE,
    )
    password = alice["password"]
    key = f"postgres-sandbox/127.0.0.1:{server.port}/{ALICE}"
    assert _stored(tmp_path / "state")[key] == password  # kept in the secret store

    # a SQL client with exactly the printed details: psql, as printed, with the password in PGPASSWORD
    client = alice["open with"]
    assert client == f'psql "host=127.0.0.1 port={server.port} dbname={wh} user={ALICE}"'
    psql = subprocess.run(
        f"{client} -At -c 'SELECT count(*) FROM people' -c 'CREATE TABLE mine AS SELECT name FROM people' "
        "-c 'SELECT current_schema()'",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PGPASSWORD": password},
    )
    assert psql.returncode == 0, psql.stderr
    assert psql.stdout.split() == ["3", "SELECT", "3", ALICE]  # its input (a view), its own table, its schema

    conninfo = " ".join(
        f"{k}={alice[v]}"
        for k, v in (
            ("host", "host"),
            ("port", "port"),
            ("dbname", "database"),
            ("user", "user"),
            ("password", "password"),
        )
    )
    with psycopg.connect(conninfo, autocommit=True) as con:
        assert con.execute("SELECT count(*) FROM mine").fetchone() == (3,)
        for forbidden in (
            "SELECT * FROM in_src.people",
            "SELECT * FROM in_src.salaries",
            "SELECT * FROM out_teams.team_size",
            "SELECT * FROM dm_people.team_size",
            "SELECT * FROM headrace_meta.task_runs",
            "SELECT * FROM headrace_meta.sandboxes",
            f"SELECT * FROM {BOB}.people",  # another user's sandbox
            f"CREATE TABLE {BOB}.x (i int)",
            "CREATE TABLE public.x (i int)",
            "CREATE SCHEMA elsewhere",
            f"SET ROLE {WAREHOUSE_USER}",
            f"SET ROLE {BOB}",
            "SET ROLE bi_reader",
            "CREATE ROLE other",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(forbidden)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # no SET ROLE: a login of its own only
            con.execute(f"SET SESSION AUTHORIZATION {WAREHOUSE_USER}")

    # `sandbox run`: the compiled SQL as the sandbox's login, nothing published
    before = execute(server, wh, "SELECT count(*) FROM headrace_meta.task_runs")
    (project / "transformations/teams/90_check.assert.sql").write_text(  # runs as the sandbox's login too
        "SELECT 'ERROR: team ' || team || ' is large' AS message FROM team_size WHERE members > 1"
    )
    out = run_ok("sandbox", "run", "teams", "--user", "alice", "--project", str(project)).stdout
    assert "made in the sandbox (1 table(s)):" in out and "team_size: 2 rows" in out  # `mine` was reset
    assert "90_check.assert.sql: ERROR: team a is large" in out
    assert "1 ERROR and 0 WARNING row(s) (a run of the transformation stops here, before publishing)" in out
    assert execute(
        server,
        wh,
        "SELECT pg_get_userbyid(relowner) FROM pg_class "
        f"WHERE relname = 'team_size' AND relnamespace = '{ALICE}'::regnamespace",
    ) == [(ALICE,)]
    assert execute(server, wh, "SELECT count(*) FROM headrace_meta.task_runs") == before

    # passwords never in a warehouse table: every row of every table, as text
    tables = execute(
        server,
        wh,
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
    )
    for (table,) in tables:
        for (row,) in execute(server, wh, f"SELECT t::text FROM {table} AS t"):
            assert password not in row and bob["password"] not in row

    # drop removes schema, role and stored password
    out = run_ok("sandbox", "drop", "teams", "--user", "alice", "--project", str(project)).stdout
    assert f"sandbox {ALICE} dropped" in out
    assert execute(server, wh, "SELECT count(*) FROM pg_roles WHERE rolname = %s", (ALICE,)) == [(0,)]
    assert execute(server, wh, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (ALICE,)) == [(0,)]
    assert key not in _stored(tmp_path / "state")
    assert execute(server, wh, "SELECT name FROM headrace_meta.sandboxes") == [(BOB,)]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(conninfo, connect_timeout=10).close()


def test_sweep_drops_idle_sandboxes_and_keeps_used_ones(setup: tuple[PgServer, str, Path], tmp_path: Path) -> None:
    import psycopg

    server, wh, project = setup
    _create(project, "alice")
    bob = _create(project, "bob")
    _create(project, "carl")
    old = "now() - interval '3 days'"
    execute(server, wh, f"UPDATE headrace_meta.sandboxes SET last_used_at = {old} WHERE name <> 'sb_carl__teams'")
    (project / "project.yaml").write_text((project / "project.yaml").read_text() + "sandboxes: {idle_expiry: 2d}\n")
    conninfo = f"host=127.0.0.1 port={server.port} dbname={wh} user={BOB} password={bob['password']}"
    with psycopg.connect(conninfo, autocommit=True):  # bob is connected from a SQL client now: in use
        out = run_ok("sandbox", "sweep", "--project", str(project)).stdout
    assert f"dropping sandbox {ALICE} of alice (teams)" in out and "1 idle sandbox(es) dropped" in out
    assert execute(server, wh, "SELECT name FROM headrace_meta.sandboxes ORDER BY 1") == [(BOB,), ("sb_carl__teams",)]
    roles = execute(server, wh, "SELECT rolname FROM pg_roles WHERE rolname LIKE 'sb\\_%' ORDER BY 1")
    assert roles == [(BOB,), ("sb_carl__teams",)]
    assert not any(ALICE in k for k in _stored(tmp_path / "state"))


@pytest.mark.airflow
@pytest.mark.slow
def test_airflow_sandbox_dag_logs_connection_details_without_the_password(
    setup: tuple[PgServer, str, Path], tmp_path: Path
) -> None:
    """The ``headrace_sandbox`` DAG in a real Airflow 3 run (``dag.test``, a fresh metadata database)."""
    import sys

    server, wh, project = setup
    airflow_home = tmp_path / "airflow"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "HEADRACE_MANIFEST": str(project / ".headrace" / "manifest.json"),
    }
    for key in ("HEADRACE_HOME", "HEADRACE_PROJECT_REPO"):
        env.pop(key, None)
    dags = tmp_path / "dags"
    run_ok("airflow", "install-dags", str(dags))
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]

    def trigger(action: str, user: str) -> str:
        conf = json.dumps({"action": action, "transformation": "teams", "user": user})
        done = subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", "headrace_sandbox", "-c", conf],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return done.stdout + done.stderr

    log = trigger("create", "dana")
    assert "state=success" in log, log[-3000:]
    password = _stored(tmp_path / "state")[f"postgres-sandbox/127.0.0.1:{server.port}/sb_dana__teams"]
    assert password not in log
    assert f'psql "host=127.0.0.1 port={server.port} dbname={wh} user=sb_dana__teams"' in log
    assert f"in the secret store as postgres-sandbox/127.0.0.1:{server.port}/sb_dana__teams" in log
    assert "headrace sandbox credentials teams --user dana" in log
    log = trigger("run", "dana")
    assert "state=success" in log and "team_size: 2 rows" in log, log[-3000:]
    log = trigger("create", "Bad Name")  # refused by the trigger parameters' own pattern: nothing runs
    assert "Invalid input for param user: 'Bad Name' does not match" in log, log[-3000:]
    log = trigger("drop", "dana")
    assert "state=success" in log and "sandbox sb_dana__teams dropped" in log, log[-3000:]
    assert execute(server, wh, "SELECT count(*) FROM pg_roles WHERE rolname = 'sb_dana__teams'") == [(0,)]
