"""What only the PostgreSQL warehouse does: swaps that keep dependent views and grants,
transformations under a restricted role, datamart reader logins and their credentials."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import headrace, run_ok
from tests.pgserver import WAREHOUSE_USER, PgServer, fresh_database
from tests.postgres import project as pgproject
from tests.postgres.source import execute

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(
    pg_server: PgServer, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[PgServer, str, str]:
    for key, value in pgproject.env(pg_server).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(tmp_path / "state"))
    return pg_server, fresh_database(pg_server, request), fresh_database(pg_server, request)


def test_full_reload_keeps_dependent_views_and_grants(tmp_path: Path, setup: tuple[PgServer, str, str]) -> None:
    server, src, wh = setup
    project = pgproject.make(tmp_path / "p", server, src, wh)
    run_ok("run", "--project", str(project))
    execute(
        server,
        wh,
        """
        CREATE ROLE analyst_x NOLOGIN;
        GRANT USAGE ON SCHEMA in_src TO analyst_x;
        GRANT SELECT ON in_src.salaries TO analyst_x;
        CREATE SCHEMA reports;
        CREATE VIEW reports.team_a AS SELECT name FROM in_src.people WHERE team = 'a';
        CREATE VIEW reports.team_a_count AS SELECT count(*) AS n FROM reports.team_a;
        GRANT SELECT ON reports.team_a_count TO analyst_x;
    """,
        user=WAREHOUSE_USER,
    )
    execute(server, src, "INSERT INTO public.people VALUES (4, 'Dee', 'a'); UPDATE public.salaries SET salary = 1")
    run_ok("run", "--project", str(project))  # same columns: the views stay, see the new rows
    assert execute(server, wh, "SELECT n FROM reports.team_a_count") == [(3,)]
    grants = execute(server, wh, "SELECT has_table_privilege('analyst_x', 'in_src.salaries', 'SELECT')")
    assert grants == [(True,)]  # no view depends on salaries: renamed in, its grants re-applied
    execute(server, src, "ALTER TABLE public.people ADD COLUMN email text")
    run_ok("run", "--project", str(project))  # new column: views recreated on the new table
    assert execute(server, wh, "SELECT n FROM reports.team_a_count") == [(3,)]
    view_grant = "SELECT has_table_privilege('analyst_x', 'reports.team_a_count', 'SELECT')"
    assert execute(server, wh, view_grant) == [(True,)]  # recreated with its grants
    execute(server, src, "ALTER TABLE public.people DROP COLUMN team")
    result = headrace("run", "extractor:src", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "reports.team_a depends on in_src.people, whose columns changed, and cannot be recreated" in out
    assert execute(server, wh, "SELECT count(*) FROM in_src.people WHERE team = 'a'") == [(3,)]  # previous kept
    assert execute(server, wh, "SELECT n FROM reports.team_a_count") == [(3,)]
    execute(server, wh, "DROP OWNED BY analyst_x; DROP ROLE analyst_x")


def test_transformation_role_reads_only_its_inputs(tmp_path: Path, setup: tuple[PgServer, str, str]) -> None:
    server, src, wh = setup
    sneaky = (
        "CREATE TABLE team_size AS SELECT 'x' AS team, "
        "length(query_to_xml('SELECT * FROM in_src.salaries', true, true, '')::text) AS members;\n"
    )
    project = pgproject.make(tmp_path / "p", server, src, wh, sql=sneaky)
    run_ok("run", "extractor:src", "--project", str(project))
    result = headrace("run", "transformation:teams", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "permission denied for schema in_src" in out
    (project / "transformations/teams/10_size.sql").write_text(
        "RESET ROLE;\nCREATE TABLE team_size AS SELECT * FROM in_src.salaries;\n"
    )
    result = headrace("run", "transformation:teams", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 1  # RESET ROLE is a no-op for a login role: the next statement is still refused
    assert "10_size.sql: statement at line 2 failed" in out and "permission denied for schema in_src" in out
    leftovers = execute(server, wh, "SELECT rolname FROM pg_roles WHERE rolname LIKE 'hr_tr_%'")
    schemas = execute(server, wh, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tr_%'")
    assert leftovers == [] and schemas == []  # working role and schema are gone, also after failures


def test_datamart_reader_login_reads_only_its_datamart(tmp_path: Path, setup: tuple[PgServer, str, str]) -> None:
    import psycopg

    server, src, wh = setup
    project = pgproject.make(tmp_path / "p", server, src, wh, readers=["bi_reader"])
    run_ok("run", "--project", str(project))
    shown = run_ok("datamart", "credentials", "people", "--project", str(project), "--format", "json").stdout
    creds = json.loads(shown)["bi_reader"]
    assert (creds["host"], creds["port"], creds["database"], creds["user"]) == (
        "127.0.0.1",
        server.port,
        wh,
        "bi_reader",
    )
    text = run_ok("datamart", "credentials", "people", "--project", str(project)).stdout
    assert f"password: {creds['password']}" in text
    conninfo = server.conninfo(wh, user="bi_reader", password=creds["password"])
    with psycopg.connect(conninfo, autocommit=True) as con:
        rows = con.execute("SELECT team, members FROM dm_people.team_size ORDER BY team").fetchall()
        assert rows == [("a", 2), ("b", 1)]
        for forbidden in (
            "SELECT * FROM in_src.salaries",
            "SELECT * FROM out_teams.team_size",
            "SELECT * FROM headrace_meta.task_runs",
            "CREATE TABLE dm_people.x (i int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(forbidden)
    run_ok("run", "--project", str(project))  # re-publishing keeps the login and its password
    with psycopg.connect(conninfo, autocommit=True) as con:
        assert con.execute("SELECT count(*) FROM dm_people.team_size").fetchone() == (2,)
    pgproject.make(tmp_path / "p", server, src, wh, readers=[])  # the reader is removed from datamarts.yaml
    run_ok("run", "datamart:people", "--project", str(project))
    with psycopg.connect(conninfo, autocommit=True) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute("SELECT count(*) FROM dm_people.team_size")
    execute(server, wh, "DROP OWNED BY bi_reader; DROP ROLE bi_reader")


def test_warehouse_connection_error_names_target_not_password(
    tmp_path: Path, setup: tuple[PgServer, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, src, wh = setup
    project = pgproject.make(tmp_path / "p", server, src, wh)
    monkeypatch.setenv("HEADRACE_SECRET_WAREHOUSE_PASSWORD", "not-the-password-42")
    result = headrace("run", "extractor:src", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 2, "a wrong warehouse password is a configuration error"
    target = f"127.0.0.1:{server.port}, database '{wh}', user '{WAREHOUSE_USER}'"
    assert f"warehouse: cannot connect to PostgreSQL at {target}" in out
    assert "not-the-password-42" not in out
    result = headrace("datamart", "credentials", "people", "--project", str(project))
    assert "has no readers" in result.stdout + result.stderr


def test_connection_failures_carry_their_error_class(
    tmp_path: Path, setup: tuple[PgServer, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings only a person can fix exit 2 (never retried); a server that may come back exits 75."""
    import yaml

    from tests.pgserver import free_port

    server, src, wh = setup
    project = pgproject.make(tmp_path / "p", server, src, wh)
    config = yaml.safe_load((project / "project.yaml").read_text())
    cases = [
        ({}, {"HEADRACE_SECRET_WAREHOUSE_PASSWORD": "not-the-password-42"}, 2, "password authentication failed"),
        ({"database": "no_such_db"}, {}, 2, 'database "no_such_db" does not exist (check the database name)'),
        ({"port": free_port()}, {}, 75, "Connection refused (is the server up and reachable from here?"),
    ]
    for changes, env, code, message in cases:
        (project / "project.yaml").write_text(
            yaml.safe_dump({**config, "warehouse": {**config["warehouse"], **changes}}, sort_keys=False)
        )
        run_ok("compile", str(project), env=env)
        result = headrace("run-task", "datamart:people", "--project", str(project), "--run-id", "r1", env=env)
        out = result.stdout + result.stderr
        assert result.returncode == code, out
        assert "warehouse: cannot connect to PostgreSQL at 127.0.0.1:" in out and message in out
        assert "not-the-password-42" not in out and server.password not in out


def test_reader_password_verifier_from_libpq_logs_in(pg_server: PgServer, pg_database: str) -> None:
    """The SCRAM verifier made by libpq is what the server stores, and it accepts the password."""
    import psycopg
    from headrace.sqltext import literal
    from headrace.warehouses.postgres.roles import password_verifier

    password = "pässword-" + "x" * 20
    with pg_server.connect(pg_database) as con, con.cursor() as cur:
        verifier = password_verifier(cur, "hr_verifier_test", password)
        assert verifier.startswith("SCRAM-SHA-256$4096:") and password not in verifier
        cur.execute(f"CREATE ROLE hr_verifier_test LOGIN PASSWORD {literal(verifier, 'postgres')}")
        cur.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'hr_verifier_test'")
        assert cur.fetchone() == (verifier,)  # stored as sent: the server never saw the password
    login = {"host": pg_server.host, "port": pg_server.port, "dbname": pg_database, "user": "hr_verifier_test"}
    try:
        with psycopg.connect(**login, password=password) as con:
            assert con.execute("SELECT current_user").fetchone() == ("hr_verifier_test",)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(**login, password=password + "!")
    finally:
        execute(pg_server, pg_database, "DROP ROLE hr_verifier_test")
