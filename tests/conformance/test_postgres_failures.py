"""Failures with a PostgreSQL source, on every warehouse: a run killed with SIGKILL in the middle
of its extract or of its load changes nothing, and the next run makes the destination equal
the source (no row lost, none duplicated) for full, incremental and upsert tables. A source
connection dropped mid-stream fails the task clearly and keeps the previous table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.targets import Target
from tests.helpers import run_ok
from tests.pgserver import PgServer
from tests.postgres.source import (
    GATE_SQL,
    execute,
    kill_during_extract,
    kill_during_load,
    source_env,
    start_task,
    wait_for_gate,
    write_project,
)

pytestmark = pytest.mark.integration

ROWS = 40_000  # ~1.5 MiB of CSV: a part is half written when the extract is killed
ITEMS_DDL = f"""
CREATE TABLE public.items (id bigint PRIMARY KEY, label text, amount numeric(12,2), updated_at timestamptz NOT NULL);
INSERT INTO public.items
SELECT i, 'item ' || i || repeat('x', 20), i / 7.0, '2024-01-01'::timestamptz + i * interval '1s'
FROM generate_series(1, {ROWS}) AS i;
"""
CHANGES = f"""
UPDATE public.items SET label = 'changed', amount = -1, updated_at = now() WHERE id % 1000 = 0;
DELETE FROM public.items WHERE id BETWEEN 100 AND 120;
INSERT INTO public.items SELECT i, 'new ' || i, 1, now() FROM generate_series({ROWS + 1}, {ROWS + 5000}) AS i;
"""
TABLES = {
    "full": {"load": "full"},
    "incremental": {"load": "incremental", "cursor": "updated_at", "primary_key": ["id"]},
    "upsert": {"load": "upsert", "primary_key": ["id"]},
}


@pytest.fixture
def source(pg_server: PgServer, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> tuple[PgServer, str]:
    for key, value in source_env(pg_server).items():
        monkeypatch.setenv(key, value)
    execute(pg_server, pg_database, ITEMS_DDL + GATE_SQL)
    return pg_server, pg_database


def _project(tmp_path: Path, target: Target, server: PgServer, db: str, mode: str) -> Path:
    table = {"name": "items", "source": "public.items", "filter": "hr_gate(id)", **TABLES[mode]}
    return write_project(tmp_path / "p", target.project_yaml(), server, db, [table])


def _destination(target: Target) -> list[tuple]:
    return target.query("SELECT id, label, amount FROM in_src.items ORDER BY id")


def _source(server: PgServer, db: str) -> list[tuple]:
    return execute(server, db, "SELECT id, label, amount FROM public.items ORDER BY id")


@pytest.mark.parametrize("mode", sorted(TABLES))
def test_sigkill_in_extract_and_in_load_then_rerun_equals_source(
    tmp_path: Path, target: Target, source: tuple[PgServer, str], mode: str
) -> None:
    target.skip_unless("slow_loads")
    server, db = source
    project = _project(tmp_path, target, server, db, mode)
    run_ok("run", "--project", str(project))
    before = _destination(target)
    assert before == _source(server, db)
    execute(server, db, CHANGES)
    # killed while COPY streams (the gate pauses it at a changed row, after a part was half written)
    kill_during_extract(server, db, project, at_id=ROWS + 4000)
    assert _destination(target) == before
    # killed with the load's transaction open (data copied, cursor not yet committed)
    kill_during_load(project)
    assert _destination(target) == before
    run_ok("run", "--project", str(project))
    after = _destination(target)
    expected = _source(server, db)
    if mode == "upsert":  # an upsert never deletes: rows gone from the source stay
        expected = sorted({r[0]: r for r in [*before, *expected]}.values())
        deleted = [r for r in after if 100 <= r[0] <= 120]
        assert len(deleted) == 21
    elif mode == "incremental":
        expected = sorted({r[0]: r for r in [*before, *expected]}.values())
    assert after == expected
    assert len({r[0] for r in after}) == len(after)  # no duplicates
    runs = target.query("SELECT count(*) FROM headrace_meta.table_loads")
    assert runs == [(2,)]  # the killed runs left no trace of a load


def test_source_connection_dropped_mid_stream_keeps_previous_table(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    target.skip_unless("slow_loads")
    server, db = source
    project = _project(tmp_path, target, server, db, "full")
    run_ok("run", "--project", str(project))
    before = _destination(target)
    execute(server, db, CHANGES + "INSERT INTO hr_gate_on VALUES (30000);")
    proc = start_task(project, "dropped")
    backend = wait_for_gate(server, db, proc)
    execute(server, "postgres", "SELECT pg_terminate_backend(%s)", (backend,))
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1, out
    assert f"public.items: reading from 127.0.0.1:{server.port}, database '{db}', user 'headrace_src' failed" in out
    assert "terminating connection due to administrator command" in out
    assert "nothing of this run was loaded" in out
    assert _destination(target) == before
    status = target.query("SELECT status, error FROM headrace_meta.task_runs ORDER BY started_at DESC LIMIT 1")
    assert status[0][0] == "failed" and "administrator command" in status[0][1]
