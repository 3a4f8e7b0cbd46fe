"""Transformations and datamarts behave the same on every warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.targets import Target
from tests.helpers import headrace, run_ok, write_files

pytestmark = pytest.mark.integration


def _project(root: Path, target: Target, sql: str, extra: dict[str, str] | None = None) -> Path:
    return write_files(
        root,
        {
            "project.yaml": target.project_yaml(),
            "data/people.csv": "id,name,team\n1,Ann,a\n2,Bob,b\n3,Cid,a\n",
            "data/secret.csv": "id,salary\n1,100\n",
            "extractors/hr.yaml": """
                type: file
                tables:
                  - name: people
                    path: data/people.csv
                    columns: {id: integer, name: string, team: string}
                  - name: salaries
                    path: data/secret.csv
                    columns: {id: integer, salary: integer}
                """,
            "transformations/teams/transformation.yaml": """
                type: sql
                inputs: [{table: in_hr.people, as: staff}]
                outputs: [team_size]
                """,
            "transformations/teams/10_size.sql": sql,
            "transformations/report/transformation.yaml": """
                type: sql
                inputs: [out_teams.team_size]
                outputs: [biggest]
                """,
            "transformations/report/10_biggest.sql": (
                "CREATE TABLE biggest AS SELECT team FROM team_size ORDER BY members DESC, team LIMIT 1;\n"
            ),
            "datamarts.yaml": """
                datamarts:
                  - id: people
                    tables: [out_teams.team_size, {table: out_report.biggest, as: top_team}]
                """,
            **(extra or {}),
        },
    )


GOOD_SQL = """
-- a comment; with a semicolon
CREATE TABLE tmp_rows AS SELECT team FROM staff;
CREATE TABLE team_size AS SELECT team, count(*) AS members FROM tmp_rows GROUP BY team;
"""


def test_transformations_chain_and_datamart_publishes(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target, GOOD_SQL)
    run_ok("run", "--project", str(project))
    assert target.query("SELECT team, members FROM dm_people.team_size ORDER BY team") == [("a", 2), ("b", 1)]
    assert target.query("SELECT team FROM dm_people.top_team") == [("a",)]
    # only declared outputs are written back; working schemas are gone
    schemas = target.schemas()
    assert {"in_hr", "out_teams", "out_report", "dm_people", "headrace_meta"} <= schemas
    assert not [s for s in schemas if s.startswith("tr_")]
    assert target.tables("out_teams") == ["team_size"]


def test_failing_statement_names_file_line_and_drops_working_schema(tmp_path: Path, target: Target) -> None:
    sql = GOOD_SQL + "\n\nSELECT no_such_column\nFROM staff;\n"
    project = _project(tmp_path / "p", target, sql)
    result = headrace("run", "transformation:teams", "extractor:hr", "--project", str(project))
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "transformations/teams/10_size.sql: statement at line 6 failed: SELECT no_such_column" in out
    assert "no_such_column" in out.split("failed:")[-1]
    assert not [s for s in target.schemas() if s.startswith("tr_")]
    assert target.query("SELECT count(*) FROM headrace_meta.task_runs WHERE status = 'failed'") == [(1,)]


def test_undeclared_input_is_refused(tmp_path: Path, target: Target) -> None:
    target.skip_unless("undeclared_input")
    sql = "CREATE TABLE team_size AS SELECT 'x' AS team, max(salary) AS members FROM in_hr.salaries;\n"
    project = _project(tmp_path / "p", target, sql)
    run_ok("run", "extractor:hr", "--project", str(project))
    result = headrace("run", "transformation:teams", "--project", str(project))
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "transformations/teams/10_size.sql: statement at line 1 failed: CREATE TABLE team_size" in out
    assert "in_hr" in out.split("failed:")[-1]  # the warehouse's own refusal, naming what was refused
    assert "inputs declared in transformation.yaml" in out
    assert target.tables("out_teams") == []


def test_missing_output_fails_and_keeps_previous_output(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target, GOOD_SQL)
    run_ok("run", "extractor:hr", "transformation:teams", "--project", str(project))
    (project / "transformations/teams/10_size.sql").write_text("CREATE TABLE other AS SELECT 1 AS x;\n")
    result = headrace("run", "transformation:teams", "--project", str(project))
    assert result.returncode == 1
    assert "declared output(s) team_size were not created" in result.stdout + result.stderr
    assert target.query("SELECT count(*) FROM out_teams.team_size") == [(2,)]


def test_statements_are_split_as_the_warehouse_reads_its_strings(tmp_path: Path, target: Target) -> None:
    target.skip_unless("string_syntax")
    sql = (
        "-- E-strings escape with a backslash, plain strings do not; dollar quotes hide a ';'\n"
        "CREATE TABLE team_size AS SELECT team, count(*) AS members,\n"
        "  E'it\\'s; fine' AS note, 'C:\\' AS path, $tag$ a;b $tag$ AS body FROM staff GROUP BY team;\n"
    )
    project = _project(tmp_path / "p", target, sql)
    run_ok("run", "extractor:hr", "transformation:teams", "--project", str(project))
    rows = target.query("SELECT team, note, path, body FROM out_teams.team_size ORDER BY team")
    assert rows == [("a", "it's; fine", "C:\\", " a;b "), ("b", "it's; fine", "C:\\", " a;b ")]


def test_an_unterminated_string_is_a_project_error_named_by_file_and_line(tmp_path: Path, target: Target) -> None:
    sql = "CREATE TABLE team_size AS SELECT team, count(*) AS members FROM staff GROUP BY team;\n\nSELECT 'no end;\n"
    project = _project(tmp_path / "p", target, sql)
    result = headrace("validate", str(project))
    assert result.returncode == 2  # fix the project: found by validate, before anything runs
    assert 'transformations/teams/10_size.sql:3: unterminated string starting "\'no end;"' in result.stderr
    result = headrace("run", "--project", str(project))
    assert result.returncode == 2 and "10_size.sql:3: unterminated string" in result.stderr
    assert not [s for s in target.schemas() if s.startswith(("tr_", "out_teams"))]  # nothing ran
