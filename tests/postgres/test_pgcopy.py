"""PostgreSQL -> PostgreSQL through binary COPY parts (``pgcopy``, ``pgcopy.zst``) and csv.zst:
every portable type arrives exactly as the source holds it, over one stream or several, in
every load mode; a part that is not a binary COPY stream of the table's columns fails the load
with one line naming table, part and fix, and keeps the previous table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headrace.errors import TaskFailed

from tests.pgserver import PgServer, fresh_database
from tests.postgres import pgparts

pytestmark = pytest.mark.integration

ROWS = 3000


@pytest.fixture(scope="module")
def source(pg_server: PgServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    database = fresh_database(pg_server, request)
    with pg_server.connect(database) as con:
        con.autocommit = True
        pgparts.make_source(con, ROWS)
        yield con


@pytest.fixture
def warehouse(pg_server: PgServer, request: pytest.FixtureRequest) -> Iterator[tuple[PgServer, str]]:
    yield pg_server, fresh_database(pg_server, request)


@pytest.mark.parametrize("streams", [1, 4])
@pytest.mark.parametrize("part_format", ["pgcopy", "pgcopy.zst", "csv.zst"])
def test_every_type_arrives_as_the_source_holds_it(
    tmp_path: Path, source: Any, warehouse: tuple[PgServer, str], part_format: str, streams: int
) -> None:
    server, database = warehouse
    storage = pgparts.local_storage(tmp_path)
    pgparts.store(source, storage, tmp_path, "raw/src/r1", part_format, ranges=3)
    with pgparts.open_warehouse(server, database, tmp_path / "state", streams) as wh:
        assert wh.load(pgparts.request(storage, "raw/src/r1", "t", "full", "r1"), storage) == ROWS + ROWS // 97
        assert wh.load(pgparts.request(storage, "raw/src/r1", "t", "full", "r2"), storage) == ROWS + ROWS // 97
    with server.connect(database) as con:
        assert pgparts.loaded(con, "t") == pgparts.source_rows(source)
        assert con.execute("SELECT DISTINCT _headrace_run_id FROM in_src.t").fetchall() == [("r2",)]
        assert con.execute("SELECT count(DISTINCT _headrace_loaded_at) FROM in_src.t").fetchone() == (1,)
        assert pgparts.stages(con) == []
        # the parallel path made its private stage schema; nobody else may use it
        has_stage_schema = con.execute("SELECT to_regnamespace('headrace_stage') IS NOT NULL").fetchone()[0]
        assert has_stage_schema == (streams > 1)
        if has_stage_schema:
            acl = con.execute("SELECT nspacl FROM pg_namespace WHERE nspname = 'headrace_stage'").fetchone()[0]
            assert acl is None  # owner only


def test_append_and_upsert_load_binary_parts_in_one_transaction(
    tmp_path: Path, source: Any, warehouse: tuple[PgServer, str]
) -> None:
    server, database = warehouse
    storage = pgparts.local_storage(tmp_path)
    pgparts.store(source, storage, tmp_path, "raw/src/r1", "pgcopy.zst", ranges=2)
    rows = ROWS + ROWS // 97
    with pgparts.open_warehouse(server, database, tmp_path / "state", 4) as wh:
        assert wh.load(pgparts.request(storage, "raw/src/r1", "a", "append", "r1"), storage) == rows  # first: parallel
        assert wh.load(pgparts.request(storage, "raw/src/r1", "a", "append", "r2"), storage) == rows
        assert wh.load(pgparts.request(storage, "raw/src/r1", "u", "upsert", "r1"), storage) == rows
        assert wh.load(pgparts.request(storage, "raw/src/r1", "u", "upsert", "r2"), storage) == 0  # nothing changed
    with server.connect(database) as con:
        runs = con.execute("SELECT _headrace_run_id, count(*) FROM in_src.a GROUP BY 1 ORDER BY 1").fetchall()
        assert runs == [("r1", rows), ("r2", rows)]
        assert pgparts.loaded(con, "u") == pgparts.source_rows(source)
        assert con.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'u'").fetchone() == (1,)


@pytest.mark.parametrize("streams", [1, 4])
def test_a_part_that_is_not_a_binary_copy_stream_fails_naming_table_part_and_fix(
    tmp_path: Path, source: Any, warehouse: tuple[PgServer, str], streams: int
) -> None:
    server, database = warehouse
    storage = pgparts.local_storage(tmp_path)
    pgparts.store(source, storage, tmp_path, "raw/src/r1", "pgcopy", ranges=3)
    pgparts.store(source, storage, tmp_path, "raw/src/r2", "pgcopy", ranges=3)
    (storage.root / "raw/src/r2/part-00001.pgcopy").write_bytes(b"id,name\n1,x\n")  # CSV where binary belongs
    # the extractor cast id to integer (int4), not to bigint as the warehouse's table has it
    wrong = pgparts.SELECT.replace('"id"', '"id"::int4', 1)
    pgparts.store(source, storage, tmp_path, "raw/src/r3", "pgcopy.zst", ranges=3, select=wrong)
    with pgparts.open_warehouse(server, database, tmp_path / "state", streams) as wh:
        wh.load(pgparts.request(storage, "raw/src/r1", "t", "full", "r1"), storage)
        with pytest.raises(TaskFailed) as info:
            wh.load(pgparts.request(storage, "raw/src/r2", "t", "full", "r2"), storage)
        message = str(info.value)
        assert message.startswith("in_src.t: part-00001.pgcopy is not a PostgreSQL binary COPY stream of the table's")
        assert "(id bigint, name text, amount numeric(38,9)" in message
        assert "COPY file signature not recognized" in message
        assert "(headrace.typemaps.pg_type): fix the extractor, then extract the table again" in message
        assert "\n" not in message
        with pytest.raises(TaskFailed) as info:
            wh.load(pgparts.request(storage, "raw/src/r3", "t", "full", "r3"), storage)
        message = str(info.value)
        assert "in_src.t: part-0000" in message and ".pgcopy.zst is not a PostgreSQL binary COPY stream" in message
        assert "at row 1, column id (integer, loaded as bigint)" in message
    with server.connect(database) as con:
        assert con.execute("SELECT DISTINCT _headrace_run_id FROM in_src.t").fetchall() == [("r1",)]
        assert pgparts.loaded(con, "t") == pgparts.source_rows(source)
        assert con.execute("SELECT count(*) FROM headrace_meta.table_loads").fetchone() == (1,)
        assert pgparts.stages(con) == []
