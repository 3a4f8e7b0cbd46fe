"""Sandboxes on DuckDB: a database file of copies per sandbox; create, run, drop and the CLI's
messages for bad input (the real CLI in a subprocess, a real DuckDB file)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.helpers import headrace, run_ok, write_files

pytestmark = pytest.mark.integration


def _project(root: Path) -> Path:
    return write_files(
        root,
        {
            "project.yaml": "name: sandboxed\nsandboxes: {idle_expiry: 2h}\n",
            "data/people.csv": "id,name,team\n1,Ann,a\n2,Bob,b\n3,Cid,a\n",
            "data/salaries.csv": "id,salary\n1,100\n2,200\n3,300\n",
            "extractors/src.yaml": """
                type: file
                tables:
                  - {name: people, path: data/people.csv, columns: {id: integer, name: string, team: string}}
                  - {name: salaries, path: data/salaries.csv, columns: {id: integer, salary: integer}}
            """,
            "transformations/teams/transformation.yaml": (
                "type: sql\ninputs: [{table: in_src.people, as: staff}]\noutputs: [team_size]\n"
            ),
            "transformations/teams/10_size.sql": (
                "CREATE TABLE scratch AS SELECT * FROM staff;\n"
                "CREATE TABLE team_size AS SELECT team, count(*) AS members FROM scratch GROUP BY team;\n"
            ),
            "transformations/teams/20_small.assert.sql": (
                "SELECT 'WARNING: team ' || team || ' has ' || members || ' member(s)' AS message\n"
                "FROM team_size WHERE members < 2\n"
            ),
        },
    )


def test_duckdb_sandbox_create_run_drop(tmp_path: Path, state_env: Path) -> None:
    project = _project(tmp_path / "p")
    run_ok("run", "extractor:src", "--project", str(project))
    shown = json.loads(
        run_ok("sandbox", "create", "teams", "--user", "ann_lee", "--project", str(project), "--format", "json").stdout
    )
    file = Path(shown["path"])
    assert file == state_env / "sandboxes" / "sb_ann_lee__teams.duckdb" and file.is_file()
    assert shown["open with"] == f"duckdb {file}" and "password" not in shown
    with duckdb.connect(str(file), read_only=True) as con:  # what a SQL client opening the file sees
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert tables == {"staff"}  # copies of the inputs only, under their `as` names
        assert con.execute("SELECT count(*) FROM staff").fetchone() == (3,)

    out = run_ok("sandbox", "run", "teams", "--user", "ann_lee", "--project", str(project)).stdout
    assert "team_size: 2 rows" in out and "scratch: 3 rows" in out
    assert "20_small.assert.sql: WARNING: team b has 1 member(s)" in out  # assertions show what they find
    assert "20_small.assert.sql: assertion 0 ERROR and 1 WARNING row(s)" in out
    out = run_ok("sandbox", "run", "teams", "--user", "ann_lee", "--project", str(project)).stdout  # again: reset first
    assert "team_size: 2 rows" in out
    query = run_ok(
        "query",
        "--project",
        str(project),
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'out_teams'",
    )
    assert "0" in query.stdout  # nothing published

    (project / "transformations/teams/10_size.sql").write_text(
        "CREATE TABLE team_size AS SELECT * FROM read_csv('" + str(project / "data/salaries.csv") + "');\n"
    )
    result = headrace("sandbox", "run", "teams", "--user", "ann_lee", "--project", str(project))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "10_size.sql: statement at line 1 failed" in result.stderr and "disabled" in result.stderr

    listed = run_ok("sandbox", "list", "--project", str(project)).stdout
    assert "ann_lee" in listed and "sb_ann_lee__teams" in listed and "2 h" in listed
    out = run_ok("sandbox", "drop", "teams", "--user", "ann_lee", "--project", str(project)).stdout
    assert "sandbox sb_ann_lee__teams dropped" in out and not file.exists()
    assert "no sandboxes" in run_ok("sandbox", "list", "--project", str(project)).stdout


def test_sandbox_cli_messages_for_bad_input(tmp_path: Path, state_env: Path) -> None:
    project = _project(tmp_path / "p")

    def fails(*args: str) -> str:
        result = headrace("sandbox", *args, "--project", str(project))
        assert result.returncode == 2, result.stdout + result.stderr
        return result.stderr

    not_loaded = fails("create", "teams", "--user", "ann")
    assert "input in_src.people of transformation teams does not exist yet: run `headrace run extractor:src` first" in (
        not_loaded
    )
    run_ok("run", "extractor:src", "--project", str(project))

    assert "no transformation 'nope' in the project; known: teams" in fails("create", "nope", "--user", "ann")
    assert "--user 'Ann!' is not a valid sandbox user name" in fails("create", "teams", "--user", "Ann!")
    assert "--user 'a__b' is not a valid" in fails("create", "teams", "--user", "a__b")
    assert "ann has no sandbox of transformation teams: create it with" in fails("run", "teams", "--user", "ann")
    assert "ann has no sandbox of transformation teams" in fails("drop", "teams", "--user", "ann")
    run_ok("sandbox", "create", "teams", "--user", "ann", "--project", str(project))
    assert "ann has a sandbox of transformation teams already (sb_ann__teams)" in fails(
        "create", "teams", "--user", "ann"
    )
    run_ok("sandbox", "drop", "teams", "--user", "ann", "--project", str(project))


def test_sandboxes_are_not_yet_on_cloud_warehouses(tmp_path: Path, state_env: Path) -> None:
    project = _project(tmp_path / "p")
    (project / "project.yaml").write_text(
        "name: sandboxed\nwarehouse: {type: snowflake, account: acme, user: u, password: '${secret:sf}', "
        "warehouse: w, database: d}\n"
    )
    result = headrace("sandbox", "create", "teams", "--user", "ann", "--project", str(project))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "sandboxes are not available on the snowflake warehouse yet" in result.stderr
    assert "develop against a postgres or duckdb warehouse" in result.stderr
