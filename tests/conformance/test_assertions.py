"""SQL assertions behave the same on every warehouse (docs/transformations.md, "Assertions").

The project is test_transform's: ``teams`` makes ``team_size`` (a: 2 members, b: 1) from
``staff``; the assertion files are added beside its SQL. The SQL is portable (no generate_series,
``||`` on strings only) so the same text runs on DuckDB, PostgreSQL, BigQuery and Snowflake.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from tests.conformance.targets import Target
from tests.conformance.test_transform import GOOD_SQL, _project
from tests.helpers import headrace, run_ok

pytestmark = pytest.mark.integration

TEAMS = ("transformation:teams", "extractor:hr")


def _run(project: Path) -> tuple[int, str]:
    result = headrace("run", *TEAMS, "--project", str(project))
    return result.returncode, result.stdout + result.stderr


def test_passing_and_warning_assertions_publish_and_report_the_warnings(tmp_path: Path, target: Target) -> None:
    """A passing file says so; WARNING rows (any case, leading spaces) are logged and reported, the task succeeds.
    One file is an assertion by its name, the other because transformation.yaml lists it."""
    project = _project(
        tmp_path / "p",
        target,
        GOOD_SQL,
        {
            "transformations/teams/transformation.yaml": """
                type: sql
                inputs: [{table: in_hr.people, as: staff}]
                outputs: [team_size]
                assertions: [30_small_teams.sql]
                """,
            # only notes and NULLs: nothing to say
            "transformations/teams/20_ok.assert.sql": (
                "SELECT 'note: team ' || team AS message FROM team_size\nUNION ALL SELECT NULL AS message -- trailing\n"
            ),
            "transformations/teams/30_small_teams.sql": (
                "-- teams of one are suspicious\n"
                "SELECT '  warning: team ' || team || ' has one member' AS message, team\n"
                "FROM team_size WHERE members < 2"
            ),
        },
    )
    code, out = _run(project)
    assert code == 0, out
    assert "20_ok.assert.sql: assertion passed" in out
    assert "warning: 30_small_teams.sql: warning: team b has one member" in out  # the task's log
    assert "transformation:teams: warning: 30_small_teams.sql: warning: team b has one member" in out  # its result
    assert "30_small_teams.sql: assertion 1 warning(s)" in out
    assert target.query("SELECT team, members FROM out_teams.team_size ORDER BY team") == [("a", 2), ("b", 1)]


def test_error_rows_fail_the_task_and_publish_nothing(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target, GOOD_SQL)
    run_ok("run", *TEAMS, "--project", str(project))
    teams = project / "transformations/teams"
    (teams / "10_size.sql").write_text(GOOD_SQL.replace("count(*) AS members", "count(*) * 10 AS members"))
    (teams / "50_sizes.assert.sql").write_text(
        "SELECT 'ERROR: team ' || team || ' is too big' AS message FROM team_size WHERE members > 5\n"
        "UNION ALL SELECT 'Warning: checked' AS message FROM team_size\n"
    )
    code, out = _run(project)
    assert code == 1, out
    assert "transformations/teams/50_sizes.assert.sql: the assertion failed with 2 ERROR row(s); nothing was" in out
    assert "ERROR: team a is too big" in out and "ERROR: team b is too big" in out
    assert target.query("SELECT team, members FROM out_teams.team_size ORDER BY team") == [("a", 2), ("b", 1)]
    assert not [s for s in target.schemas() if s.startswith("tr_")]
    assert target.query("SELECT count(*) FROM headrace_meta.task_runs WHERE status = 'failed'") == [(1,)]


def test_an_assertion_without_a_message_column_names_the_file(tmp_path: Path, target: Target) -> None:
    check = {"transformations/teams/50_sizes.assert.sql": "SELECT team, members FROM team_size WHERE members > 5\n"}
    project = _project(tmp_path / "p", target, GOOD_SQL, check)
    code, out = _run(project)
    assert code == 1, out
    assert "transformations/teams/50_sizes.assert.sql: an assertion query returns a column named message" in out
    assert "this one returns team, members" in out.lower()
    assert target.tables("out_teams") == []


def test_a_huge_assertion_result_is_counted_in_the_warehouse_and_listed_in_part(tmp_path: Path, target: Target) -> None:
    """3^11 = 177,147 ERROR rows: the task lists 10 of them and the total; the warehouse sends 10."""
    joins = " CROSS JOIN ".join(f"staff AS s{i}" for i in range(11))
    names = " || ".join(f"s{i}.name" for i in range(11))
    check = {"transformations/teams/50_many.assert.sql": f"SELECT 'ERROR: ' || {names} AS message FROM {joins}\n"}
    project = _project(tmp_path / "p", target, GOOD_SQL, check)
    code, out = _run(project)
    assert code == 1, out
    assert "50_many.assert.sql: the assertion failed with 177,147 ERROR row(s)" in out
    listed = list(dict.fromkeys(line.strip() for line in out.splitlines() if line.strip().startswith("ERROR: ")))
    assert len(listed) == 10  # the first ten messages, in order
    assert listed[:2] == ["ERROR: " + "Ann" * 11, "ERROR: " + "Ann" * 10 + "Bob"]
    assert "... and 177,137 more" in out


def test_a_secret_in_an_assertion_message_is_masked(tmp_path: Path, target: Target) -> None:
    """The warehouse's password (a secret the task resolves) in a WARNING message: masked in the log and the result."""
    secret = next(iter(target.env.values()), None)
    if not secret:
        pytest.skip(f"{target.name}: the test warehouse has no password to leak")
    check = {"transformations/teams/50_leak.assert.sql": f"SELECT 'WARNING: the password is {secret}!' AS message\n"}
    project = _project(tmp_path / "p", target, GOOD_SQL, check)
    code, out = _run(project)
    assert code == 0, out
    assert secret not in out
    assert "warning: 50_leak.assert.sql: WARNING: the password is ***!" in out
    assert "transformation:teams: warning: 50_leak.assert.sql: WARNING: the password is ***!" in out


def test_session_query_never_takes_more_rows_than_asked(tmp_path: Path, target: Target) -> None:
    """``TransformationSession.query`` caps in the warehouse: 100,000 rows asked for 5 bring 5, and
    the Python heap (tracemalloc) stays far below what 100,000 rows would take (several MB)."""
    digits = " UNION ALL ".join(f"SELECT {d} AS x" for d in range(10))
    sql = f"WITH d AS ({digits}) SELECT a.x, b.x AS y FROM d AS a, d AS b, d AS c, d AS e, d AS f"
    with target.open() as wh:
        wh.register_working_schema("tr_probe_00000001", "probe", "probe", "probe", 0)
        try:
            with wh.transformation_session("tr_probe_00000001", {}, 120) as session:
                tracemalloc.start()
                try:
                    columns, rows = session.query(sql, 5)
                    _, peak = tracemalloc.get_traced_memory()
                finally:
                    tracemalloc.stop()
        finally:
            wh.unregister_working_schema("tr_probe_00000001")
    assert [c.lower() for c in columns] == ["x", "y"]
    assert len(rows) == 5
    assert peak < 2_000_000, f"{peak:,} bytes traced while reading 5 rows"
