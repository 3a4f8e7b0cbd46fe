"""Parallel full loads (``load_streams``) and what they leave: a load killed with its final
transaction open keeps the previous table, and its committed stage is left alone by a sweep
while the load lives and swept once it is dead; two loads of one table at once both succeed,
one after the other, and leave no stage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headrace.sweep import sweep_warehouse

from tests.pgserver import PgServer, fresh_database, warehouse_block
from tests.postgres import pgparts

pytestmark = pytest.mark.integration

ROWS = 2000
KILLED_LOAD = """
import json, sys
from pathlib import Path
from tests.postgres import pgparts
from tests.helpers import open_test_warehouse
args = json.loads(sys.argv[1])
storage = pgparts.local_storage(Path(args["tmp"]))
with open_test_warehouse(args["block"], Path(args["tmp"]) / "state", args["env"]) as wh:
    wh.load(pgparts.request(storage, "raw/src/r2", "t", "full", "r2"), storage)
"""


@pytest.fixture
def loaded(pg_server: PgServer, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A warehouse database whose ``in_src.t`` holds run r1 (3 parts), and the source connection."""
    source, database = fresh_database(pg_server, request), fresh_database(pg_server, request)
    with pg_server.connect(source) as con:
        con.autocommit = True
        pgparts.make_source(con, ROWS)
        storage = pgparts.local_storage(tmp_path)
        for run in ("r1", "r2", "r3"):
            pgparts.store(con, storage, tmp_path, f"raw/src/{run}", "pgcopy.zst", ranges=3)
        with pgparts.open_warehouse(pg_server, database, tmp_path / "state", 4) as wh:
            wh.load(pgparts.request(storage, "raw/src/r1", "t", "full", "r1"), storage)
        yield database, con


def _stages(server: PgServer, database: str) -> list[tuple[str, str]]:
    with server.connect(database) as con:
        return pgparts.stages(con)


def test_a_killed_parallel_load_keeps_the_table_and_its_stage_is_swept_once_dead(
    pg_server: PgServer, loaded: tuple[str, Any], tmp_path: Path
) -> None:
    database, source = loaded
    block, env = warehouse_block(pg_server, database)
    args = json.dumps({"tmp": str(tmp_path), "block": {**block, "load_streams": 3}, "env": env})
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_LOAD, args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "HEADRACE_FAULTS": "load.before_commit"},
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("FAULT load.before_commit")  # swap done, not committed
        assert len(_stages(pg_server, database)) == 1  # committed before the COPYs
        with pgparts.open_warehouse(pg_server, database, tmp_path / "state", 4) as wh:
            assert sweep_warehouse(wh) == []  # the live load's stage is left alone
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            swept: list[str] = []
            for _ in range(100):  # until the server noticed the dead connection and released its locks
                swept = sweep_warehouse(wh)
                if swept:
                    break
                threading.Event().wait(0.1)
        assert len(swept) == 1 and "headrace_stage._hr_stage_t_" in swept[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert _stages(pg_server, database) == []
    with pg_server.connect(database) as con:
        assert con.execute("SELECT DISTINCT _headrace_run_id FROM in_src.t").fetchall() == [("r1",)]
        assert pgparts.loaded(con, "t") == pgparts.source_rows(source)
        assert con.execute("SELECT count(*) FROM headrace_meta.table_loads").fetchone() == (1,)


def test_two_parallel_loads_of_one_table_at_once_both_land_one_after_the_other(
    pg_server: PgServer, loaded: tuple[str, Any], tmp_path: Path
) -> None:
    database, source = loaded
    storage = pgparts.local_storage(tmp_path)
    start = threading.Barrier(2)
    counts: dict[str, int] = {}
    errors: list[BaseException] = []

    def load(run: str) -> None:
        try:
            with pgparts.open_warehouse(pg_server, database, tmp_path / f"state-{run}", 3) as wh:
                start.wait(timeout=30)
                counts[run] = wh.load(pgparts.request(storage, f"raw/src/{run}", "t", "full", run), storage)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(run,)) for run in ("r2", "r3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert counts == {"r2": ROWS + ROWS // 97, "r3": ROWS + ROWS // 97}
    assert _stages(pg_server, database) == []
    with pg_server.connect(database) as con:
        runs = con.execute("SELECT DISTINCT _headrace_run_id FROM in_src.t").fetchall()
        assert runs in ([("r2",)], [("r3",)])  # one whole run, never a mix
        assert pgparts.loaded(con, "t") == pgparts.source_rows(source)
        # transaction ids follow the table's load lock: the last one to write swapped the table in
        loads = con.execute("SELECT run_id FROM headrace_meta.table_loads ORDER BY xmin::text::bigint").fetchall()
        assert sorted(loads) == [("r1",), ("r2",), ("r3",)]
        assert loads[-1] == runs[0]
