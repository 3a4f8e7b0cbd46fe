"""Credentials Headrace creates (datamart reader logins) live in the secret store, never in the warehouse."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import psycopg
import pytest
import yaml
from headrace.secretstore import LOCAL_FILE, LocalSecretStore

from tests.helpers import run_ok
from tests.pgserver import WAREHOUSE_USER, PgServer, fresh_database
from tests.postgres import project as pgproject
from tests.postgres.source import execute
from tests.security import leakscan


@pytest.fixture
def setup(
    pg_server: PgServer, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[PgServer, str, str, Path]:
    for key, value in pgproject.env(pg_server).items():
        monkeypatch.setenv(key, value)
    state = tmp_path / "state"
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(state))
    for role in ("leak_reader", "leak_own_reader", "leak_old_reader"):
        request.addfinalizer(lambda role=role: execute(pg_server, "postgres", f"DROP ROLE IF EXISTS {role}"))
    return pg_server, fresh_database(pg_server, request), fresh_database(pg_server, request), state


def shown_password(project: Path, reader: str) -> str | None:
    shown = run_ok("datamart", "credentials", "people", "--project", str(project), "--format", "json").stdout
    return json.loads(shown)[reader]["password"]


def can_read(server: PgServer, wh: str, reader: str, password: str) -> bool:
    try:
        with psycopg.connect(server.conninfo(wh, user=reader, password=password), autocommit=True) as con:
            return con.execute("SELECT count(*) FROM dm_people.team_size").fetchone() == (2,)
    except psycopg.OperationalError:
        return False


@pytest.mark.integration
def test_reader_password_is_never_written_into_a_warehouse_table(
    tmp_path: Path, setup: tuple[PgServer, str, str, Path]
) -> None:
    server, src, wh, state = setup
    project = pgproject.make(tmp_path / "p", server, src, wh, readers=["leak_reader"])
    run = run_ok("run", "--project", str(project))
    password = shown_password(project, "leak_reader")
    assert password and can_read(server, wh, "leak_reader", password)
    text = run_ok("datamart", "credentials", "people", "--project", str(project)).stdout
    assert f"password: {password}" in text, "shown in clear on demand, by this command only"

    store = state / LOCAL_FILE
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert yaml.safe_load(store.read_text()) == {f"postgres-reader/127.0.0.1:{server.port}/leak_reader": password}
    assert execute(server, wh, "SELECT to_regclass('headrace_meta.credentials')") == [(None,)]
    meta_columns = "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'headrace_meta'"
    columns = execute(server, wh, meta_columns)
    assert not [c for c in columns if "password" in c[1]]
    history = run_ok("history", "--project", str(project))
    secrets = {"reader password": password}
    hits = leakscan.in_postgres(server, wh, secrets) + leakscan.in_files([project, state], secrets, skip=[store])
    hits += leakscan.in_outputs({"run": run.stdout + run.stderr, "history": history.stdout}, secrets)
    assert hits == []

    run_ok("run", "datamart:people", "--project", str(project))
    assert shown_password(project, "leak_reader") == password, "re-publishing keeps the password"
    store.unlink()  # the store was lost: the login Headrace created gets a new password, kept in the store
    run_ok("run", "datamart:people", "--project", str(project))
    renewed = shown_password(project, "leak_reader")
    assert renewed and renewed != password
    assert can_read(server, wh, "leak_reader", renewed) and not can_read(server, wh, "leak_reader", password)


@pytest.mark.integration
def test_a_login_headrace_did_not_create_keeps_its_password(
    tmp_path: Path, setup: tuple[PgServer, str, str, Path]
) -> None:
    server, src, wh, state = setup
    execute(server, "postgres", "CREATE ROLE leak_own_reader LOGIN PASSWORD 'Own-Passw0rd-1'")
    project = pgproject.make(tmp_path / "p", server, src, wh, readers=["leak_own_reader"])
    run_ok("run", "--project", str(project))
    assert can_read(server, wh, "leak_own_reader", "Own-Passw0rd-1")
    assert shown_password(project, "leak_own_reader") is None
    assert not (state / LOCAL_FILE).exists() or "leak_own_reader" not in (state / LOCAL_FILE).read_text()


@pytest.mark.integration
def test_passwords_of_an_older_warehouse_move_from_headrace_meta_into_the_store(
    tmp_path: Path, setup: tuple[PgServer, str, str, Path]
) -> None:
    server, src, wh, _ = setup
    project = pgproject.make(tmp_path / "p", server, src, wh, readers=["leak_old_reader"])
    run_ok("run", "extractor:src", "--project", str(project))  # headrace_meta exists
    old = "Old-Stored-Passw0rd-9"
    execute(
        server,
        "postgres",
        f"CREATE ROLE leak_old_reader LOGIN NOINHERIT PASSWORD '{old}'; "
        "COMMENT ON ROLE leak_old_reader IS 'managed by headrace: datamart reader'",
    )
    execute(  # what Headrace before the secret store wrote
        server,
        wh,
        f"SET ROLE {WAREHOUSE_USER}; CREATE TABLE headrace_meta.credentials (role text PRIMARY KEY, datamart text, "
        f"password text NOT NULL, created_at timestamptz); "
        f"INSERT INTO headrace_meta.credentials VALUES ('leak_old_reader', 'people', '{old}', now())",
    )
    run_ok("run", "--project", str(project))
    assert execute(server, wh, "SELECT to_regclass('headrace_meta.credentials')") == [(None,)]
    assert shown_password(project, "leak_old_reader") == old, "the login keeps the password its users have"
    assert can_read(server, wh, "leak_old_reader", old)


@pytest.mark.unit
def test_local_store_writes_are_atomic_private_and_never_lost_between_writers(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "state" / LOCAL_FILE)
    assert store.read("a") is None
    threads = [threading.Thread(target=store.write, args=(f"reader/{i}", f"value-{i:04d}")) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {f"reader/{i}": store.read(f"reader/{i}") for i in range(20)} == {
        f"reader/{i}": f"value-{i:04d}" for i in range(20)
    }
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []
    store.write("0123", "0123")  # taken as written, never as a number
    assert store.read("0123") == "0123"
    store.delete("reader/3")
    assert store.read("reader/3") is None and store.read("reader/4") == "value-0004"
