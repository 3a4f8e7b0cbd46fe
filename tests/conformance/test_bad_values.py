"""Values at the edges of what a warehouse holds, from a real PostgreSQL source: every value
either arrives exactly or the load fails with one line naming table, column, line and value
(never a raw CSV-reader dump), and the previous state stays."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conformance.targets import Target
from tests.helpers import headrace, run_ok
from tests.pgserver import PgServer
from tests.postgres.source import execute, source_env, write_project

pytestmark = pytest.mark.integration

TIMES_DDL = """
CREATE TABLE public.times (id int PRIMARY KEY, note text, ts timestamptz, d date, t timestamp);
INSERT INTO public.times VALUES
 (1, 'plain', '2024-01-01 10:00:00+00', '2024-01-01', '2024-01-01 10:00:00.123456'),
 (2, E'two\\nlines', '0044-03-15 12:00:00+00 BC', '0044-03-15 BC', '0001-02-29 23:59:59.5 BC'),
 (3, 'far', '4713-01-01 00:00:00.000001+00 BC', '4713-01-01 BC', '4713-01-01 00:00:00 BC'),
 (4, 'open', 'infinity', '-infinity', 'infinity');
"""
HUGE_DDL = """
CREATE TABLE public.huge (id int PRIMARY KEY, note text, big numeric);
INSERT INTO public.huge VALUES (1, 'ok', 1.5), (2, E'two\\nlines', 2), (3, 'too big', 1e40);
"""
NAN_DDL = """
CREATE TABLE public.prices (id int PRIMARY KEY, price numeric(12,2));
INSERT INTO public.prices VALUES (1, 1.25), (2, 'NaN');
"""


@pytest.fixture
def source(pg_server: PgServer, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> tuple[PgServer, str]:
    for key, value in source_env(pg_server).items():
        monkeypatch.setenv(key, value)
    return pg_server, pg_database


def _pg_spelling(text: str | None) -> str | None:
    """DuckDB writes BC as ``0044-03-15 (BC) 12:00:00+00``, PostgreSQL as ``0044-03-15 12:00:00+00 BC``."""
    return None if text is None else re.sub(r"^(\S+) \(BC\)(.*)$", r"\1\2 BC", text)


def test_bc_and_infinite_times_arrive_exactly(tmp_path: Path, target: Target, source: tuple[PgServer, str]) -> None:
    target.skip_unless("bc_times")
    server, db = source
    execute(server, db, TIMES_DDL)
    project = write_project(
        tmp_path / "p", target.project_yaml(), server, db, [{"name": "times", "source": "public.times"}]
    )
    run_ok("run", "extractor:src", "--project", str(project))
    with server.connect(db) as con:
        con.execute("SET TimeZone = 'UTC'")
        expected = con.execute("SELECT id, ts::text, d::text, t::text FROM public.times ORDER BY id").fetchall()
    rows = target.query(
        "SELECT id, CAST(ts AS VARCHAR), CAST(d AS VARCHAR), CAST(t AS VARCHAR) FROM in_src.times ORDER BY id"
    )
    assert [(r[0], *map(_pg_spelling, r[1:])) for r in rows] == expected
    assert expected[1][1:] == ("0044-03-15 12:00:00+00 BC", "0044-03-15 BC", "0001-02-29 23:59:59.5 BC")


def test_a_value_the_warehouse_cannot_hold_fails_naming_table_column_line_and_value(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    server, db = source
    execute(server, db, HUGE_DDL)
    project = write_project(
        tmp_path / "p", target.project_yaml(), server, db, [{"name": "huge", "source": "public.huge"}]
    )
    result = headrace("run", "extractor:src", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    value = "1" + "0" * 40
    # an unconstrained numeric is decimal(38,9): 10^40 does not fit; row 3 starts on line 5 (row 2 has two lines)
    # the part is in the format the warehouse loads (csv.gz, csv.zst; PostgreSQL's binary COPY casts in
    # the source, where the value fails unnamed: that table is read again as plain CSV)
    found = re.search(r"in_src\.huge: column big, line 5 of part-00000\.csv(\.gz|\.zst)?: ", out)
    assert found, out
    line = found.group(0) + f"'{value}' is not a valid decimal(38,9) ("
    assert line in out
    assert "fix or filter the row in the source, or exclude the column" in out
    assert "auto-detected" not in out and "Possible" not in out
    assert target.tables("in_src") == []
    errors = target.query("SELECT status, error FROM headrace_meta.task_runs")
    assert errors[0][0] == "failed" and line in errors[0][1]


def test_numeric_nan_arrives_where_the_warehouse_holds_it_and_fails_clearly_where_not(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    server, db = source
    execute(server, db, NAN_DDL)
    tables = [{"name": "prices", "source": "public.prices"}]
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, tables)
    result = headrace("run", "extractor:src", "--project", str(project))
    out = result.stdout + result.stderr
    holds_nan = target.name == "postgres"  # PostgreSQL's numeric has NaN; DuckDB's DECIMAL has not
    if holds_nan:
        assert result.returncode == 0, out
        assert target.query("SELECT id, CAST(price AS VARCHAR) FROM in_src.prices ORDER BY id") == [
            (1, "1.25"),
            (2, "NaN"),
        ]
    else:
        assert result.returncode == 1, out
        assert re.search(
            r"in_src\.prices: column price, line 3 of part-00000\.csv(\.gz|\.zst)?: "
            r"'NaN' is not a valid decimal\(12,2\) \(",
            out,
        ), out
