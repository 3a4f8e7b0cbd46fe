"""A large PostgreSQL table read as parallel block ranges, on every warehouse (each in its own part
format: csv.zst, csv.gz, pgcopy): the parts together are one snapshot, equal to the source.

The thresholds are lowered (``HEADRACE_PARALLEL_MIN_BYTES``, ``HEADRACE_RANGE_BYTES``) so a table of
a few MB is cut into several ranges; the code path is the one a 100 GB table takes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from tests.conformance.targets import Target
from tests.helpers import run_ok
from tests.pgserver import PgServer
from tests.postgres.source import execute, source_env, start_task, write_project

pytestmark = pytest.mark.integration

ROWS = 30_000
SOURCE_DDL = f"""
CREATE TABLE public.big (id bigint PRIMARY KEY, v numeric(12,2), label text, day date, blob bytea, flag boolean);
INSERT INTO public.big
SELECT i, i * 1.25, CASE WHEN i % 7 = 0 THEN NULL WHEN i % 11 = 0 THEN '' ELSE 'row, "' || i || E'"\\n' END,
       DATE '2020-01-01' + (i % 1000), CASE WHEN i % 5 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') END, i % 2 = 0
FROM generate_series(1, {ROWS}) AS i;
ANALYZE public.big;
-- blocks the range holding a chosen row until the test lets go (advisory locks are not MVCC)
CREATE TABLE hr_hold_at (id bigint);
INSERT INTO hr_hold_at VALUES ({ROWS // 2});
CREATE FUNCTION hr_hold(i bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF i = (SELECT id FROM hr_hold_at) AND current_query() LIKE 'COPY%' THEN
        PERFORM pg_advisory_lock_shared(4242);
        PERFORM pg_advisory_unlock_shared(4242);
    END IF;
    RETURN true;
END $$;
"""
HELD = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event = 'advisory'"
SUMMARY = (
    "SELECT count(*), sum(id), sum(v), count(label), sum(length(label)), count(blob), "
    "sum(CASE WHEN flag THEN 1 ELSE 0 END), min(day), max(day) FROM {table}"
)


@pytest.fixture
def source(pg_server: PgServer, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> tuple[PgServer, str]:
    for key, value in source_env(pg_server).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HEADRACE_PARALLEL_MIN_BYTES", "1")
    monkeypatch.setenv("HEADRACE_RANGE_BYTES", str(512 * 1024))
    execute(pg_server, pg_database, SOURCE_DDL)
    execute(pg_server, pg_database, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC")
    return pg_server, pg_database


@contextlib.contextmanager
def held_range(server: PgServer, db: str, project: Path, run_id: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Start the extract with the range holding the chosen row blocked; (task, that range's backend)."""
    holder = server.connect(db)
    holder.autocommit = True
    holder.execute("SELECT pg_advisory_lock(4242)")
    proc = start_task(project, run_id)
    try:
        deadline = time.monotonic() + 120
        while not (found := execute(server, "postgres", HELD, (db,))):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "no range reached the held row"
            time.sleep(0.05)
        yield proc, int(found[0][0])
    finally:
        holder.execute("SELECT pg_advisory_unlock(4242)")
        holder.close()


def _normalised(rows: list[tuple]) -> list[tuple]:
    """Values compared as text; numbers by value (warehouses sum into different types)."""

    def text(value: object) -> str | None:
        if value is None:
            return None
        try:
            return format(Decimal(str(value)).normalize(), "f")
        except InvalidOperation:
            return str(value)

    return [tuple(text(v) for v in row) for row in rows]


def test_ranges_read_one_snapshot_while_the_source_changes(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    """One range is held half-way while the source is updated, deleted from and added to, and
    committed: every part still shows the table as it was when the extract began."""
    target.skip_unless("slow_loads")
    server, db = source
    expected = execute(server, db, SUMMARY.format(table="public.big"))
    tables = [{"name": "big", "source": "public.big", "filter": "hr_hold(id)"}]
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, tables, streams=3)
    with held_range(server, db, project, "ranges") as (proc, _):
        execute(
            server,
            db,
            "UPDATE public.big SET v = v + 1000, label = 'changed' WHERE id % 3 = 0; "
            f"DELETE FROM public.big WHERE id > {ROWS - 500}; "
            f"INSERT INTO public.big SELECT i, 1, 'new', DATE '2030-01-01', NULL, true "
            f"FROM generate_series({ROWS + 1}, {ROWS + 2000}) AS i",
        )
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    assert "block ranges, 3 streams at a time (one snapshot)" in out
    loaded = target.query(SUMMARY.format(table="in_src.big"))
    assert _normalised(loaded) == _normalised(expected)
    assert target.query("SELECT count(*) FROM in_src.big WHERE label = 'changed'") == [(0,)]


def test_ranges_equal_one_stream_and_keep_the_incremental_window(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    """The same table read incrementally by ranges: the cursor's window applies in every range."""
    target.skip_unless("slow_loads")
    server, db = source
    tables = [{"name": "big", "source": "public.big", "load": "incremental", "cursor": "id", "primary_key": ["id"]}]
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, tables, streams=2)
    first = run_ok("run", "--project", str(project))
    assert "block ranges, 2 streams" in first.stdout + first.stderr
    execute(
        server,
        db,
        "INSERT INTO public.big SELECT i, 2, 'later', NULL, NULL, false "
        f"FROM generate_series({ROWS + 1}, {ROWS + 10}) AS i",
    )
    run_ok("run", "--project", str(project))
    assert _normalised(target.query(SUMMARY.format(table="in_src.big"))) == _normalised(
        execute(server, db, SUMMARY.format(table="public.big"))
    )
    loads = target.query("SELECT rows FROM headrace_meta.table_loads ORDER BY loaded_at")
    assert [r[0] for r in loads] == [ROWS, 10]


def test_without_psql_one_stream_reads_the_same(tmp_path: Path, target: Target, source: tuple[PgServer, str]) -> None:
    """A machine without psql (or SQL psql would read differently) reads with psycopg, one stream."""
    target.skip_unless("slow_loads")
    server, db = source
    tables = [{"name": "big", "source": "public.big", "filter": "label IS DISTINCT FROM E'\\\\x'"}]
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, tables, streams=4)
    result = run_ok("run", "--project", str(project))
    assert "block ranges" not in result.stdout + result.stderr  # a backslash: never through psql
    assert "big: one stream (its SQL has a backslash" in result.stdout + result.stderr
    env_path = ":".join(p for p in os.environ["PATH"].split(":") if not os.path.exists(os.path.join(p, "psql")))
    tables = [{"name": "big", "source": "public.big"}]
    project = write_project(tmp_path / "q", target.project_yaml(), server, db, tables, streams=4)
    result = run_ok("run", "--project", str(project), env={"PATH": env_path})
    assert "big: one stream (no psql here" in result.stdout + result.stderr
    assert _normalised(target.query(SUMMARY.format(table="in_src.big"))) == _normalised(
        execute(server, db, SUMMARY.format(table="public.big"))
    )


def test_a_failing_range_fails_the_table_and_keeps_the_previous_one(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    """A range's backend terminated mid-read: the task fails naming the table, nothing is loaded."""
    target.skip_unless("slow_loads")
    server, db = source
    tables = [{"name": "big", "source": "public.big", "filter": "hr_hold(id)"}]
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, tables, streams=2)
    with held_range(server, db, project, "failing") as (proc, backend):
        execute(server, "postgres", "SELECT pg_terminate_backend(%s)", (backend,))
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1, out
    assert f"public.big: reading from 127.0.0.1:{server.port}, database '{db}'" in out
    assert "terminating connection due to administrator command" in out
    assert "big" not in target.tables("in_src")
    assert server.password not in out
