"""Transformation SQL is confined by the warehouse itself, not by reading the SQL.

Each hostile case runs a transformation that tries to get out (leave its role, read what it
did not declare, reach the server's files or programs, write elsewhere) and asserts what the
user sees (exit 1, the file, the statement's line, the warehouse's own refusal and the hint)
and that the attempt left nothing behind: no output, no working schema, role or work file, and
no trace of the attack itself.

The hostile cases share one warehouse per target whose inputs were extracted once for the
module (``loaded``); each runs only its transformation, in its own project folder, and asserts
on the whole warehouse that nothing stayed. Cases whose transformation succeeds (and publishes)
get a warehouse of their own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conformance.targets import TARGETS, Target
from tests.helpers import headrace, run_ok, write_files
from tests.pgserver import WAREHOUSE_USER, PgServer
from tests.postgres.source import execute

pytestmark = pytest.mark.integration

SQL_FILE = "transformations/teams/10_size.sql"
HINT = "a transformation reads only the inputs declared in transformation.yaml and writes only its working schema"
GOOD = "CREATE TABLE team_size AS SELECT team, count(*) AS members FROM staff GROUP BY team;\n"


def _project(root: Path, target: Target, sql: str, outputs: str = "[team_size]") -> Path:
    return write_files(
        root,
        {
            "project.yaml": target.project_yaml(),
            "data/people.csv": "id,name,team\n1,Ann,a\n2,Bob,b\n3,Cid,a\n",
            "data/salaries.csv": "id,salary\n1,100\n2,200\n3,300\n",
            "extractors/hr.yaml": """
                type: file
                tables:
                  - name: people
                    path: data/people.csv
                    columns: {id: integer, name: string, team: string}
                  - name: salaries
                    path: data/salaries.csv
                    columns: {id: integer, salary: integer}
                """,
            "transformations/teams/transformation.yaml": f"""
                type: sql
                inputs: [{{table: in_hr.people, as: staff}}]
                outputs: {outputs}
                """,
            SQL_FILE: sql,
        },
    )


# the warehouses of tests/security (tests/security/conftest.py); each gets one shared, loaded warehouse here
LOADED_TARGETS = ("duckdb", "postgres")


def _load(name: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Target:
    root = tmp_path_factory.mktemp(f"loaded-{name}")
    made = TARGETS[name](request, root)
    project = _project(root / "extract", made, GOOD)
    env = {"HEADRACE_STATE_DIR": str(made.state_dir), **made.env}
    out = run_ok("run", "extractor:hr", "--project", str(project), env=env).stdout
    assert "in_hr.people: 3 rows loaded" in out and "in_hr.salaries: 3 rows loaded" in out, out
    return made


@pytest.fixture(scope="module")
def loaded_postgres(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Target:
    """A PostgreSQL warehouse with in_hr.people and in_hr.salaries extracted once for the module."""
    return _load("postgres", request, tmp_path_factory)


@pytest.fixture(scope="module")
def loaded_duckdb(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Target:
    """A DuckDB warehouse with in_hr.people and in_hr.salaries extracted once for the module."""
    return _load("duckdb", request, tmp_path_factory)


@pytest.fixture(scope="module", params=LOADED_TARGETS)
def loaded_warehouse(request: pytest.FixtureRequest) -> Target:
    return request.getfixturevalue(f"loaded_{request.param}")


def _use(target: Target, monkeypatch: pytest.MonkeyPatch) -> Target:
    """The shared warehouse's state folder and secrets in this test's environment."""
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(target.state_dir))
    for key, value in target.env.items():
        monkeypatch.setenv(key, value)
    return target


@pytest.fixture
def loaded(loaded_warehouse: Target, monkeypatch: pytest.MonkeyPatch) -> Target:
    return _use(loaded_warehouse, monkeypatch)


@pytest.fixture
def loaded_pg(loaded_postgres: Target, monkeypatch: pytest.MonkeyPatch) -> Target:
    return _use(loaded_postgres, monkeypatch)


@pytest.fixture
def loaded_db(loaded_duckdb: Target, monkeypatch: pytest.MonkeyPatch) -> Target:
    return _use(loaded_duckdb, monkeypatch)


def _attempt(tmp_path: Path, target: Target, sql: str) -> str:
    """Run the hostile transformation on the loaded inputs; what the user saw (it must fail)."""
    project = _project(tmp_path / "p", target, sql)
    result = headrace("run", "transformation:teams", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    return out


def _leftovers(target: Target) -> list[str]:
    """Working schemas, working roles and work files still there after a run."""
    found = [r[0] for r in target.query("SELECT schema_name FROM information_schema.schemata")]
    found = [s for s in found if s.startswith(("tr_", "out_teams"))]
    if target.name == "postgres":
        found += [r[0] for r in target.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'hr\\_%'")]
    work = target.state_dir / "work"
    found += [p.name for p in work.iterdir()] if work.exists() else []
    return found


def _assert_refused(out: str, line: int, says: str, hint: bool = True) -> None:
    assert f"{SQL_FILE}: statement at line {line} failed:" in out
    assert says in out.split("failed:", 1)[1], out  # the warehouse's own message
    assert (HINT in out) == hint, out


# -- on every warehouse ----------------------------------------------------------------------------


def test_undeclared_input_cannot_be_read(tmp_path: Path, loaded: Target) -> None:
    target = loaded
    out = _attempt(tmp_path, target, "CREATE TABLE team_size AS SELECT id, salary AS members FROM in_hr.salaries;\n")
    _assert_refused(out, 1, "in_hr", hint=target.name == "postgres")
    assert "inputs declared in transformation.yaml" in out
    assert _leftovers(target) == []


def test_run_history_in_headrace_meta_cannot_be_read(tmp_path: Path, loaded: Target) -> None:
    target = loaded
    out = _attempt(tmp_path, target, GOOD + "CREATE TABLE loot AS SELECT * FROM headrace_meta.task_runs;\n")
    _assert_refused(out, 2, "headrace_meta", hint=target.name == "postgres")
    assert _leftovers(target) == []


def test_table_cannot_be_created_in_another_schema(tmp_path: Path, loaded: Target) -> None:
    target = loaded
    out = _attempt(tmp_path, target, GOOD + "\nCREATE TABLE in_hr.planted AS SELECT 1 AS x;\n")
    _assert_refused(out, 3, "in_hr", hint=target.name == "postgres")
    planted = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'planted'"
    assert target.query(planted) == [(0,)]
    assert _leftovers(target) == []


LEGITIMATE = """
CREATE TEMP TABLE pay AS SELECT id, salary FROM salaries;
CREATE VIEW staffed AS SELECT s.team, p.salary FROM staff AS s JOIN pay AS p ON p.id = s.id;
CREATE TABLE teams AS SELECT DISTINCT team FROM staff;
CREATE TABLE team_pay AS
WITH totals AS (SELECT team, sum(salary) AS total FROM staffed GROUP BY team)
SELECT t.team, totals.total FROM teams AS t JOIN totals ON totals.team = t.team;
CREATE VIEW team_names AS SELECT team, upper(team) AS label FROM teams;
"""


def test_legitimate_transformation_joins_inputs_with_ctes_temp_tables_and_views(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target, LEGITIMATE, outputs="[team_pay, team_names]")
    yaml = project / "transformations/teams/transformation.yaml"
    yaml.write_text(yaml.read_text().replace("as: staff}]", "as: staff}, in_hr.salaries]"))
    run_ok("run", "--project", str(project))
    assert target.query("SELECT team, total FROM out_teams.team_pay ORDER BY team") == [("a", 400), ("b", 200)]
    assert target.query("SELECT team, label FROM out_teams.team_names ORDER BY team") == [("a", "A"), ("b", "B")]
    kinds = "SELECT table_type FROM information_schema.tables WHERE table_schema = 'out_teams'"
    assert target.query(kinds + " AND table_name = 'team_names'") == [
        ("BASE TABLE",)
    ]  # a view output is published as its rows
    assert [x for x in _leftovers(target) if x != "out_teams"] == []


# -- PostgreSQL: the session logs in as a throwaway role ------------------------------------------------


@dataclass(frozen=True)
class Attack:
    sql: str
    line: int  # the statement that fails
    says: str  # in PostgreSQL's (or DuckDB's) message
    hint: bool = True


STEAL = "CREATE TABLE team_size AS SELECT id AS team, salary AS members FROM in_hr.salaries;\n"
PG_ATTACKS = {
    "reset_role": Attack("RESET ROLE;\n" + STEAL, 2, "permission denied for schema in_hr"),
    "reset_role_with_comment": Attack("RESET/**/ROLE;\n" + STEAL, 2, "permission denied for schema in_hr"),
    "set_role_to_warehouse_user": Attack(f"SET ROLE {WAREHOUSE_USER};\n" + STEAL, 1, "permission denied to set role"),
    "set_session_authorization": Attack(
        f"SET SESSION AUTHORIZATION {WAREHOUSE_USER};\n", 1, "permission denied to set session authorization"
    ),
    "reset_role_in_do_block": Attack(
        "DO $$ BEGIN EXECUTE 'RESET ROLE'; EXECUTE 'CREATE TABLE team_size AS SELECT * FROM in_hr.salaries'; END $$;\n",
        1,
        "permission denied for schema in_hr",
    ),
    "set_config_role": Attack(
        f"SELECT set_config('role', '{WAREHOUSE_USER}', false);\n", 1, "permission denied to set role"
    ),
    "create_role": Attack("CREATE ROLE hr_planted LOGIN PASSWORD 'planted';\n", 1, "permission denied to create role"),
    "grant_server_program_role": Attack(
        "GRANT pg_execute_server_program TO CURRENT_USER;\n", 1, "pg_execute_server_program"
    ),
    "alter_own_role": Attack("ALTER ROLE CURRENT_USER CREATEROLE;\n", 1, "permission denied"),
    "read_server_file": Attack(
        "SELECT pg_read_file('/etc/passwd');\n", 1, "permission denied for function pg_read_file"
    ),
    "read_stored_credentials": Attack(
        "SELECT * FROM headrace_meta.credentials;\n", 1, "permission denied for schema headrace_meta"
    ),
    "create_schema": Attack("CREATE SCHEMA out_planted;\n", 1, "permission denied for database"),
    "create_in_public_schema": Attack(
        "CREATE TABLE public.planted (x int);\n", 1, "permission denied for schema public"
    ),
}


WHO_AM_I = """
CREATE TABLE team_size AS
SELECT concat_ws(',', r.rolcanlogin, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolsuper, r.rolbypassrls,
                 r.rolconnlimit, r.rolvaliduntil > now(), session_user = current_user,
                 current_setting('search_path') LIKE 'tr\\_teams\\_%',
                 current_setting('statement_timeout') <> '0') AS team,
       (SELECT count(*) FROM pg_auth_members AS m WHERE m.member = r.oid) AS members
FROM pg_roles AS r WHERE r.rolname = current_user;
"""


def test_postgres_session_logs_in_as_a_role_with_nothing_to_spare(tmp_path: Path, postgres: Target) -> None:
    project = _project(tmp_path / "p", postgres, WHO_AM_I)
    run_ok("run", "extractor:hr", "transformation:teams", "--project", str(project))
    # login, NOINHERIT, no CREATEROLE/CREATEDB/SUPERUSER/BYPASSRLS, 2 connections, expires, is the session user,
    # search_path is its working schema, statement_timeout set; member of no role
    expected = "t,f,f,f,f,f,2,t,t,t,t"
    assert postgres.query("SELECT team, members FROM out_teams.team_size") == [(expected, 0)]


@pytest.mark.parametrize("attack", list(PG_ATTACKS.values()), ids=list(PG_ATTACKS))
def test_postgres_session_cannot_leave_its_working_role(tmp_path: Path, loaded_pg: Target, attack: Attack) -> None:
    postgres = loaded_pg
    out = _attempt(tmp_path, postgres, attack.sql)
    _assert_refused(out, attack.line, attack.says, attack.hint)
    assert _leftovers(postgres) == []
    assert postgres.query("SELECT count(*) FROM pg_roles WHERE rolname = 'hr_planted'") == [(0,)]
    grants = f"SELECT pg_has_role('{WAREHOUSE_USER}', 'pg_execute_server_program', 'MEMBER')"
    assert postgres.query(grants) == [(False,)]


def test_copy_from_program_runs_nothing_on_the_server(tmp_path: Path, loaded_pg: Target) -> None:
    postgres = loaded_pg
    marker = Path("/tmp") / f"headrace-pwned-{uuid.uuid4().hex[:8]}"
    sql = f"CREATE TEMP TABLE loot (line text);\nCOPY loot FROM PROGRAM 'touch {marker}';\n"
    out = _attempt(tmp_path, postgres, sql)
    _assert_refused(out, 2, "pg_execute_server_program")
    assert not marker.exists()
    assert _leftovers(postgres) == []


# a function that does harm only when someone else (the warehouse user) runs it
LURE = """
CREATE FUNCTION lure() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF current_user NOT LIKE 'hr_tr%' THEN EXECUTE 'CREATE SCHEMA pwned'; END IF;
    RETURN true;
END $$;
"""
TROJANS = {
    "view_output": LURE
    + "CREATE VIEW team_size AS SELECT team, count(*) AS members FROM staff WHERE lure() GROUP BY team;\n",
    "row_security_output": LURE
    + GOOD
    + "ALTER TABLE team_size ENABLE ROW LEVEL SECURITY;\nALTER TABLE team_size FORCE ROW LEVEL SECURITY;\n"
    + "CREATE POLICY p ON team_size USING (lure());\n",
}


@pytest.mark.parametrize("sql", list(TROJANS.values()), ids=list(TROJANS))
def test_publishing_runs_no_transformation_code_as_the_warehouse_user(
    tmp_path: Path, postgres: Target, sql: str
) -> None:
    project = _project(tmp_path / "p", postgres, sql)
    run_ok("run", "extractor:hr", "transformation:teams", "--project", str(project))
    assert postgres.query("SELECT team, members FROM out_teams.team_size ORDER BY team") == [("a", 2), ("b", 1)]
    assert postgres.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'pwned'") == [(0,)]
    assert [x for x in _leftovers(postgres) if x != "out_teams"] == []


def test_output_with_a_type_made_by_the_transformation_is_not_published(tmp_path: Path, loaded_pg: Target) -> None:
    postgres = loaded_pg
    sql = LURE + (
        "CREATE DOMAIN bait AS bigint CHECK (lure());\n"
        "CREATE TABLE team_size AS SELECT team, count(*)::bait AS members FROM staff GROUP BY team;\n"
    )
    out = _attempt(tmp_path, postgres, sql)
    assert (
        "transformations/teams: output team_size: column(s) members (bait) have a type made by the transformation"
        in out
    )
    assert postgres.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'pwned'") == [(0,)]
    assert _leftovers(postgres) == []


# -- DuckDB: a separate database with external access off and the configuration locked -----------------

LOCKED = "the configuration has been locked"
DISABLED = "disabled"
DUCKDB_ATTACKS = {
    "read_csv_of_system_file": Attack(
        "CREATE TABLE team_size AS SELECT * FROM read_csv('/etc/passwd');\n", 1, "/etc/passwd"
    ),
    "read_text_of_system_file": Attack("SELECT * FROM read_text('/etc/passwd');\n", 1, "/etc/passwd"),
    "attach_warehouse_file": Attack("ATTACH '{warehouse}' AS wh;\n", 1, DISABLED),
    "query_table_of_undeclared_input": Attack(
        "CREATE TABLE team_size AS SELECT * FROM query_table('in_hr.salaries');\n", 1, "in_hr", hint=False
    ),
    "enable_external_access": Attack("SET enable_external_access = true;\n", 1, LOCKED),
    "unlock_configuration": Attack("SET lock_configuration = false;\n", 1, LOCKED),
    "raise_memory_limit": Attack("SET memory_limit = '100GB';\n", 1, LOCKED),
    "install_extension": Attack("INSTALL httpfs;\n", 1, DISABLED),
    "load_extension_file": Attack("LOAD '/tmp/planted.duckdb_extension';\n", 1, DISABLED),
    "call_that_reads_a_file": Attack("CALL sniff_csv('/etc/passwd');\n", 1, DISABLED),
    "import_database": Attack("IMPORT DATABASE '/tmp';\n", 1, DISABLED),
}


def test_duckdb_session_has_external_access_off_and_configuration_locked(tmp_path: Path, duckdb: Target) -> None:
    sql = (
        "CREATE TABLE team_size AS SELECT concat_ws(',', current_setting('enable_external_access'), "
        "current_setting('lock_configuration'), current_database() <> 'warehouse') AS team, "
        "(SELECT count(*) FROM duckdb_databases() WHERE NOT internal) AS members;\n"
    )
    project = _project(tmp_path / "p", duckdb, sql)
    run_ok("run", "extractor:hr", "transformation:teams", "--project", str(project))
    # one database only: the work file, not the warehouse
    assert duckdb.query("SELECT team, members FROM out_teams.team_size") == [("false,true,true", 1)]


@pytest.mark.parametrize("attack", list(DUCKDB_ATTACKS.values()), ids=list(DUCKDB_ATTACKS))
def test_duckdb_session_cannot_reach_files_or_the_warehouse(tmp_path: Path, loaded_db: Target, attack: Attack) -> None:
    duckdb = loaded_db
    sql = GOOD + attack.sql.replace("{warehouse}", str(duckdb.state_dir / "warehouse.duckdb"))
    out = _attempt(tmp_path, duckdb, sql)
    _assert_refused(out, attack.line + 1, attack.says, attack.hint)
    assert _leftovers(duckdb) == []


def test_copy_to_writes_no_file(tmp_path: Path, loaded_db: Target) -> None:
    duckdb = loaded_db
    marker = tmp_path / "exported.csv"
    out = _attempt(tmp_path, duckdb, GOOD + f"COPY team_size TO '{marker}';\n")
    _assert_refused(out, 2, DISABLED)
    assert not marker.exists()
    assert _leftovers(duckdb) == []


# -- what a killed run leaves is removed knowing only the working schema's name --------------------------


def test_leftover_working_role_is_dropped_knowing_only_the_schema(postgres: Target) -> None:
    from headrace.warehouses.postgres import roles

    schema = "tr_teams_0badf00d"
    with postgres.open() as wh:  # a run that was killed: its schema, its role, its session still open
        wh.execute(f"CREATE SCHEMA {schema}")
        with wh.con.cursor() as cur:  # type: ignore[attr-defined]
            roles.create_working_role(cur, schema, "leftover-password", 60)
    import psycopg

    settings = {**postgres.config, "password": postgres.env["HEADRACE_SECRET_WAREHOUSE_PASSWORD"]}
    conninfo = f"host={settings['host']} port={settings['port']} dbname={settings['database']}"
    with psycopg.connect(f"{conninfo} user={roles.working_role(schema)} password=leftover-password") as stale:
        stale.execute(f"CREATE TABLE {schema}.half_done AS SELECT 1 AS x")
        stale.commit()
        with postgres.open() as wh:  # a later process, with no memory of that run
            wh.drop_schema(schema)  # type: ignore[attr-defined]
        with pytest.raises(psycopg.OperationalError):  # its session was ended
            stale.execute("SELECT 1")
    left = f"SELECT count(*) FROM pg_roles WHERE rolname = '{roles.working_role(schema)}'"
    assert postgres.query(left) == [(0,)]
    assert postgres.query(f"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'") == [(0,)]


def test_leftover_work_file_is_removed_knowing_only_the_schema(duckdb: Target) -> None:
    schema = "tr_teams_0badf00d"
    folder = duckdb.state_dir / "work" / f"{schema}-k1ll3d"
    folder.mkdir(parents=True)
    (folder / "work.duckdb").write_bytes(b"half written")
    other = duckdb.state_dir / "work" / "tr_teams_12345678-running"
    other.mkdir()
    with duckdb.open() as wh:
        wh.drop_schema(schema)
    assert not folder.exists() and other.exists()


# -- what PUBLIC has on the database is checked before the SQL runs --------------------------------------


def test_headrace_schema_opened_to_public_is_closed_again(
    tmp_path: Path, postgres: Target, pg_server: PgServer
) -> None:
    project = _project(tmp_path / "p", postgres, STEAL)
    run_ok("run", "extractor:hr", "--project", str(project))
    database = postgres.config["database"]
    execute(pg_server, database, "GRANT USAGE ON SCHEMA in_hr TO PUBLIC; GRANT SELECT ON in_hr.salaries TO PUBLIC")
    result = headrace("run", "transformation:teams", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 1
    _assert_refused(out, 1, "permission denied for schema in_hr")
    assert execute(pg_server, database, "SELECT has_schema_privilege('public', 'in_hr', 'USAGE')") == [(False,)]
    assert _leftovers(postgres) == []


def test_public_schema_writable_by_everyone_stops_the_transformation(
    tmp_path: Path, postgres: Target, pg_server: PgServer
) -> None:
    project = _project(tmp_path / "p", postgres, GOOD)
    run_ok("run", "extractor:hr", "--project", str(project))
    execute(pg_server, postgres.config["database"], "GRANT CREATE ON SCHEMA public TO PUBLIC")  # as before PG 15
    result = headrace("run", "transformation:teams", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 2, out  # the warehouse's settings are to fix, not retried
    assert "every role (PUBLIC) may create objects in schema public" in out
    assert "REVOKE CREATE ON SCHEMA public FROM PUBLIC" in out
    assert _leftovers(postgres) == []


def test_warehouse_user_of_the_tests_has_only_the_documented_rights(postgres: Target, pg_server: PgServer) -> None:
    """docs/postgres.md's grants, nothing more: not the owner of the database, not a superuser."""
    database = postgres.config["database"]
    owner = execute(
        pg_server, database, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (database,)
    )
    assert owner == [("postgres",)]
    attributes = (
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication FROM pg_roles WHERE rolname = %s"
    )
    assert execute(pg_server, database, attributes, (WAREHOUSE_USER,)) == [(False, True, False, False, False)]
    acl = "SELECT privilege_type FROM pg_database, aclexplode(datacl) WHERE datname = %s AND grantee = %s::regrole"
    granted = {r[0] for r in execute(pg_server, database, acl, (database, WAREHOUSE_USER))}
    assert granted == {"CONNECT", "CREATE", "TEMPORARY"}
    memberships = "SELECT count(*) FROM pg_auth_members WHERE member = %s::regrole"
    assert execute(pg_server, database, memberships, (WAREHOUSE_USER,)) == [(0,)]
