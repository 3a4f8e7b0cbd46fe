"""A PostgreSQL source on every warehouse: types, NULL vs empty string, incremental cursors with
lookback, upserts that change nothing when re-run, column excludes and row filters."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conformance.targets import Target
from tests.helpers import headrace, run_ok
from tests.pgserver import PgServer
from tests.postgres.source import execute, source_env, write_project

pytestmark = pytest.mark.integration

TYPES_DDL = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE public.everything (
    id integer PRIMARY KEY, name text, code varchar(10), qty smallint, big bigint, price numeric(12,3),
    ratio double precision, flag boolean, day date, at timestamp, at_tz timestamptz, doc jsonb, tags text[],
    blob bytea, uid uuid, feeling mood, secret text
);
SET TimeZone = 'America/New_York';
INSERT INTO public.everything VALUES
 (1, 'Ann, "the" first', 'A1', 7, 9007199254740993, 1234.5, 0.25, true, '2024-02-29', '2024-01-01 10:00:00.123456',
  '2024-03-31 01:30:00+02', '{"a": [1, 2], "b": null}', '{x,"y z"}', '\\x00ff', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  'happy', 'pii'),
 (2, '', '', NULL, NULL, NULL, NULL, false, NULL, NULL, '2024-06-01 00:00:00', NULL, '{}', '\\x', NULL, NULL, 'pii'),
 (3, NULL, NULL, -1, -5, -0.001, -1e-3, NULL, '1999-12-31', NULL, NULL, '[]', NULL, NULL, NULL, 'sad', NULL),
 (4, E'multi\\nline 🚀 עברית', '  pad  ', 0, 0, 0, 0, true, '2024-01-01', '2000-01-01', '2024-01-01 12:00:00-05', '{}',
  NULL, '\\xdeadbeef', NULL, NULL, NULL);
"""


@pytest.fixture
def source(pg_server: PgServer, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> tuple[PgServer, str]:
    for key, value in source_env(pg_server).items():
        monkeypatch.setenv(key, value)
    return pg_server, pg_database


def test_types_and_null_vs_empty_arrive_exactly(tmp_path: Path, target: Target, source: tuple[PgServer, str]) -> None:
    server, db = source
    execute(server, db, TYPES_DDL)
    tables = [{"name": "everything", "source": "public.everything", "columns": {"exclude": ["secret"]}}]
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, tables)
    run_ok("run", "--project", str(project))
    rows = target.query(
        'SELECT id, name, code, qty, big, price, ratio, flag, day, "at", at_tz FROM in_src.everything ORDER BY id'
    )
    utc = dt.UTC
    assert rows[0] == (
        1,
        'Ann, "the" first',
        "A1",
        7,
        9007199254740993,
        Decimal("1234.500"),
        0.25,
        True,
        dt.date(2024, 2, 29),
        dt.datetime(2024, 1, 1, 10, 0, 0, 123456),
        dt.datetime(2024, 3, 30, 23, 30, tzinfo=utc),
    )
    assert rows[1][:4] == (2, "", "", None)  # empty strings stay empty, NULL stays NULL
    assert rows[1][10] == dt.datetime(2024, 6, 1, 4, tzinfo=utc)  # written in New York, stored as UTC
    assert rows[2][1:3] == (None, None)
    assert rows[2][5] == Decimal("-0.001")
    assert rows[3][1] == "multi\nline 🚀 עברית"
    assert rows[3][2] == "  pad  "
    assert rows[3][10] == dt.datetime(2024, 1, 1, 17, tzinfo=utc)
    docs = target.query("SELECT id, CAST(doc AS VARCHAR), CAST(tags AS VARCHAR) FROM in_src.everything ORDER BY id")
    assert json.loads(docs[0][1]) == {"a": [1, 2], "b": None}
    assert json.loads(docs[0][2]) == ["x", "y z"]
    assert docs[1][1] is None and json.loads(docs[1][2]) == []
    others = target.query("SELECT CAST(uid AS VARCHAR), CAST(feeling AS VARCHAR) FROM in_src.everything ORDER BY id")
    assert others[0] == ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "happy")
    blobs = target.query("SELECT blob FROM in_src.everything ORDER BY id")
    assert [bytes(b[0]) if b[0] is not None else None for b in blobs] == [b"\x00\xff", b"", None, b"\xde\xad\xbe\xef"]
    columns = target.columns("in_src", "everything")
    assert "secret" not in columns  # excluded columns never leave the source
    schema = json.loads(next((target.state_dir / "storage/raw/src/everything").glob("*/schema.json")).read_text())
    types = {c["name"]: c["type"] for c in schema["columns"]}
    assert types == {
        "id": "integer",
        "name": "string",
        "code": "string",
        "qty": "integer",
        "big": "integer",
        "price": "decimal(12,3)",
        "ratio": "float",
        "flag": "boolean",
        "day": "date",
        "at": "timestamp",
        "at_tz": "timestamp_tz",
        "doc": "json",
        "tags": "json",
        "blob": "bytes",
        "uid": "string",
        "feeling": "string",
    }


ORDERS_DDL = """
CREATE TABLE public.orders (id bigint PRIMARY KEY, status text, amount numeric(10,2), updated_at timestamptz NOT NULL);
INSERT INTO public.orders SELECT i, 'new', i * 1.5, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
FROM generate_series(1, 50) AS i;
"""


def _orders(target: Target) -> list[tuple]:
    return target.query("SELECT id, status, amount FROM in_src.orders ORDER BY id")


def _source_orders(server: PgServer, db: str, where: str = "true") -> list[tuple]:
    return execute(server, db, f"SELECT id, status, amount FROM public.orders WHERE {where} ORDER BY id")


# the cursor: the newest row of the key (a warehouse may keep older ones, as Snowflake does)
STATE = "SELECT CAST(value AS VARCHAR) FROM headrace_meta.state ORDER BY updated_at DESC LIMIT 1"


def test_incremental_reads_past_the_cursor_and_merges_lookback(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    server, db = source
    execute(server, db, ORDERS_DDL)
    table = {
        "name": "orders",
        "source": "public.orders",
        "load": "incremental",
        "cursor": "updated_at",
        "primary_key": ["id"],
        "lookback": "30m",
        "filter": "status <> 'test'",
    }
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, [table])
    run_ok("run", "--project", str(project))
    assert _orders(target) == _source_orders(server, db)
    state = target.query(STATE)
    assert json.loads(state[0][0])["value"] == "2024-01-01 00:50:00+00"  # UTC, as PostgreSQL prints it
    # an update moves a row's cursor forward; a late row (cursor 20 minutes behind) is caught by the lookback;
    # a row changed outside the lookback without moving its cursor is not re-read; filtered rows never arrive
    execute(
        server,
        db,
        """
        SET TimeZone = 'Asia/Tokyo';
        UPDATE public.orders SET status = 'paid', updated_at = '2024-01-02 09:00:00+09' WHERE id = 3;
        INSERT INTO public.orders VALUES (51, 'late', 1, '2024-01-01 00:30:00+00'), (52, 'test', 1, '2024-01-03');
        UPDATE public.orders SET status = 'silent' WHERE id = 4;
    """,
    )
    run_ok("run", "--project", str(project))
    got = dict((r[0], r[1:]) for r in _orders(target))
    assert got[3] == ("paid", Decimal("4.50")) and got[51] == ("late", Decimal("1.00"))
    assert got[4] == ("new", Decimal("6.00")) and 52 not in got
    assert len(got) == len(_orders(target)) == 51  # the lookback re-read rows 21..50 without duplicating them
    state = json.loads(target.query(STATE)[0][0])
    assert state["value"] == "2024-01-02 00:00:00+00"
    # nothing new: nothing changes, the cursor stays
    run_ok("run", "--project", str(project))
    assert len(_orders(target)) == 51
    # --full-refresh forgets the cursor and rebuilds from the source (row 4's silent change arrives)
    run_ok("run", "--project", str(project), "--full-refresh")
    assert _orders(target) == _source_orders(server, db, "status <> 'test'")


def test_incremental_without_key_appends_only_new_rows(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    server, db = source
    execute(server, db, ORDERS_DDL)
    table = {
        "name": "orders",
        "query": "SELECT id, status, amount, updated_at FROM public.orders",
        "load": "incremental",
        "cursor": "id",
    }
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, [table])
    run_ok("run", "--project", str(project))
    execute(server, db, "INSERT INTO public.orders VALUES (51, 'new', 2, now()), (52, 'new', 3, now())")
    run_ok("run", "--project", str(project))
    run_ok("run", "--project", str(project))
    assert _orders(target) == _source_orders(server, db)
    assert target.query("SELECT count(DISTINCT _headrace_run_id) FROM in_src.orders") == [(2,)]


def test_upsert_rerun_changes_nothing_and_merges_changes(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    server, db = source
    execute(server, db, ORDERS_DDL)
    table = {"name": "orders", "source": "public.orders", "load": "upsert", "primary_key": ["id"]}
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, [table])
    run_ok("run", "--project", str(project))
    first = target.query("SELECT id, status, amount, updated_at FROM in_src.orders ORDER BY id")
    run_ok("run", "--project", str(project))
    assert target.query("SELECT id, status, amount, updated_at FROM in_src.orders ORDER BY id") == first
    execute(
        server,
        db,
        "UPDATE public.orders SET amount = 0 WHERE id <= 5; INSERT INTO public.orders VALUES (100, 'new', 9, now())",
    )
    run_ok("run", "--project", str(project))
    assert _orders(target) == _source_orders(server, db)
    loads = target.query("SELECT rows FROM headrace_meta.table_loads ORDER BY loaded_at")
    assert loads[0][0] == 50


def test_bad_source_settings_fail_with_a_clear_message(
    tmp_path: Path, target: Target, source: tuple[PgServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, db = source
    monkeypatch.setenv("HEADRACE_SECRET_SOURCE_PASSWORD", "wrong-password-123")
    tables = [{"name": "t", "source": "public.nope"}]
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, tables)
    result = headrace("run", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 2, "a wrong password is a configuration error: fix it, do not retry"
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{server.port}, database '{db}', user 'headrace_src'" in out
    assert "password authentication failed" in out
    assert "wrong-password-123" not in out
    monkeypatch.setenv("HEADRACE_SECRET_SOURCE_PASSWORD", server.password)
    result = headrace("run", "--project", str(project))
    assert "public.nope: no such table or view" in result.stdout + result.stderr
