"""Every load path on every warehouse, through Headrace's warehouse interface in this process:
parts streamed from a storage no warehouse reads natively (DuckDB through its FIFO path,
PostgreSQL through COPY), full, append and upsert loads over several parts, upserts with and
without the MERGE statement, and parts that cannot be read."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
from unittest import mock

import pytest
from headrace import tablefiles
from headrace.errors import TaskFailed
from headrace.runner import stored_table
from headrace.storage.base import Storage, StorageCapabilities
from headrace.storage.local import LocalStorage, LocalStorageConfig
from headrace.tablefiles import Column, TableSchema, TableWriter, csv_field
from headrace.warehouses.base import LoadRequest

from tests.conformance.targets import Target

pytestmark = pytest.mark.integration

COLUMNS = [
    Column("id", "integer"),
    Column("name", "string"),
    Column("amount", "decimal(12,2)"),
    Column("at", "timestamp_tz"),
    Column("flag", "boolean"),
    Column("blob", "bytes"),
    Column("doc", "json"),
]
ROWS = 50_000  # ~4 MiB of CSV: many pipe buffers, several parts (the writer cuts a part per MiB flushed)


class StreamOnlyStorage(LocalStorage):
    """Local files behind a URI scheme no warehouse loads natively: every load must ``open()`` them."""

    capabilities = StorageCapabilities(scheme="test-stream")

    def __init__(self, root: Path):
        super().__init__(LocalStorageConfig(path=str(root)), root)
        self.url = f"test-stream://{root.name}"
        self.opened: list[str] = []

    def open(self, key: str) -> BinaryIO:
        self.opened.append(key)
        return super().open(key)

    def uri(self, key: str) -> str:
        return f"test-stream://bucket/{key}"


def _row(i: int, version: int = 0) -> tuple[Any, ...]:
    name = f'row {i}, "v{version}"' + ("\nnext line" if i % 5 == 0 else "")
    name = "" if i % 7 == 0 else None if i % 11 == 0 else name
    at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i)
    return (i, name, Decimal(i) / 100 + version, at, i % 2 == 0, i.to_bytes(4, "big"), {"i": i, "v": version})


def _csv(row: tuple[Any, ...]) -> bytes:
    i, name, amount, at, flag, blob, doc = row
    fields = [
        str(i),
        "" if name is None else csv_field(name),
        str(amount),
        at.isoformat(sep=" "),
        "true" if flag else "false",
        "\\x" + blob.hex(),
        csv_field(json.dumps(doc)),
    ]
    return (",".join(fields) + "\n").encode()


def _rows(target: Target) -> int:
    """The cases' row count, or fewer where the target's emulator loads slowly (``Target.bulk_rows``)."""
    return target.bulk_rows or ROWS


def _store(storage: Storage, tmp_path: Path, key: str, rows: list[tuple[Any, ...]], scale: float = 1.0) -> None:
    folder = tmp_path / "parts" / key.replace("/", "_")
    # several parts at any scale: the writer cuts parts when it flushes its buffer
    with mock.patch.object(tablefiles, "_BUFFER", int(tablefiles._BUFFER * scale)):
        writer = TableWriter(folder, COLUMNS, part_bytes=int(400_000 * scale))
        for start in range(0, len(rows), 500):
            writer.write_csv(b"".join(_csv(r) for r in rows[start : start + 500]), len(rows[start : start + 500]))
        writer.close()
    storage.upload_folder(folder, key)


def _request(storage: Storage, key: str, table: str, mode: str, run_id: str) -> LoadRequest:
    files, parts = stored_table(storage, key)
    return LoadRequest("in_paths", table, parts, files, mode, ["id"] if mode == "upsert" else [], run_id)


def _loaded(target: Target, table: str) -> list[tuple[Any, ...]]:
    columns = 'id, name, amount, "at", flag, blob, CAST(doc AS VARCHAR)'
    rows = target.query(f"SELECT {columns} FROM in_paths.{table} ORDER BY id")
    return [(*r[:5], bytes(r[5]), json.loads(r[6])) for r in rows]


def test_every_mode_streams_parts_from_a_storage_the_warehouse_cannot_read(tmp_path: Path, target: Target) -> None:
    storage = StreamOnlyStorage(tmp_path / "bucket")
    rows = _rows(target)
    first = [_row(i) for i in range(1, rows + 1)]
    _store(storage, tmp_path, "raw/t/r1", first, rows / ROWS)
    parts = stored_table(storage, "raw/t/r1")[1]
    assert len(parts) >= 3 and all(p.uri.startswith("test-stream://") for p in parts)
    # a second batch: changed rows, new rows, and a key twice (the last one wins)
    second = [_row(i, version=1) for i in range(rows - 99, rows + 101)] + [_row(rows + 100, version=2)]
    _store(storage, tmp_path, "raw/t/r2", second)
    with target.open() as wh:
        assert wh.load(_request(storage, "raw/t/r1", "full_t", "full", "r1"), storage) == rows
        assert wh.load(_request(storage, "raw/t/r1", "append_t", "append", "r1"), storage) == rows
        assert wh.load(_request(storage, "raw/t/r2", "append_t", "append", "r2"), storage) == len(second)
        assert wh.load(_request(storage, "raw/t/r1", "upsert_t", "upsert", "r1"), storage) == rows
        assert wh.load(_request(storage, "raw/t/r2", "upsert_t", "upsert", "r2"), storage) == 200
    assert set(storage.opened) >= {p.key for p in parts}  # every part was read as a stream
    assert _loaded(target, "full_t") == first
    assert len(_loaded(target, "append_t")) == rows + len(second)
    merged = {r[0]: r for r in first} | {r[0]: r for r in second}
    assert _loaded(target, "upsert_t") == sorted(merged.values())


def test_upserts_give_the_same_table_with_and_without_the_merge_statement(tmp_path: Path, target: Target) -> None:
    storage = StreamOnlyStorage(tmp_path / "bucket")
    batches = [
        [_row(i) for i in range(1, 301)],
        [_row(i, version=1) for i in range(250, 351)] + [_row(260, version=3)],
        [_row(i, version=1) for i in range(250, 351)] + [_row(260, version=3)],  # the same batch again
    ]
    for n, rows in enumerate(batches):
        _store(storage, tmp_path, f"raw/u/r{n}", rows)
    counts: dict[bool, list[int]] = {}
    with target.open() as wh:
        for merge in (True, False):
            wh.capabilities = dataclasses.replace(wh.capabilities, merge=merge)
            table = f"merge_{merge}".lower()
            counts[merge] = [
                wh.load(_request(storage, f"raw/u/r{n}", table, "upsert", f"r{n}"), storage) for n in range(3)
            ]
    assert counts[True] == counts[False] == [300, 101, 0]  # 51 changed + 50 new; the same batch again changes nothing
    assert _loaded(target, "merge_true") == _loaded(target, "merge_false")
    runs = target.query(
        "SELECT _headrace_run_id, count(*) FROM in_paths.merge_false GROUP BY _headrace_run_id ORDER BY 1"
    )
    assert runs == [("r0", 249), ("r1", 101)]  # unchanged rows keep the run that last changed them


def test_a_part_that_cannot_be_read_fails_the_load_and_keeps_the_table(tmp_path: Path, target: Target) -> None:
    storage = StreamOnlyStorage(tmp_path / "bucket")
    rows = _rows(target)
    _store(storage, tmp_path, "raw/b/r1", [_row(i) for i in range(1, rows + 1)], rows / ROWS)
    _store(storage, tmp_path, "raw/b/r2", [_row(i, version=1) for i in range(1, rows + 1)], rows / ROWS)
    parts = stored_table(storage, "raw/b/r2")[1]
    cut = storage.root / parts[-1].key
    data = cut.read_bytes()
    assert gzip.decompress(data)
    cut.write_bytes(data[: len(data) // 2])  # cut short, as by an interrupted upload
    (storage.root / parts[0].key).rename(storage.root / (parts[0].key + ".gone"))
    with target.open() as wh:
        wh.load(_request(storage, "raw/b/r1", "kept", "full", "r1"), storage)
        with pytest.raises(TaskFailed, match=rf"{parts[0].key}: cannot read the stored part from test-stream://"):
            wh.load(_request(storage, "raw/b/r2", "kept", "full", "r2"), storage)
        (storage.root / (parts[0].key + ".gone")).rename(storage.root / parts[0].key)
        with pytest.raises(TaskFailed, match=rf"{parts[-1].key}: cannot read the stored part .* end-of-stream"):
            wh.load(_request(storage, "raw/b/r2", "kept", "append", "r2"), storage)
    assert target.query("SELECT count(*), max(_headrace_run_id) FROM in_paths.kept") == [(rows, "r1")]
    assert target.query("SELECT count(*) FROM headrace_meta.table_loads") == [(1,)]


def _store_raw(storage: Storage, tmp_path: Path, key: str, rows: list[bytes]) -> None:
    """One part written by hand (to hold what no extractor writes), with its schema.json."""
    folder = tmp_path / "raw" / key.replace("/", "_")
    folder.mkdir(parents=True)
    header = ",".join(c.name for c in COLUMNS).encode() + b"\n"
    (folder / "part-00000.csv.gz").write_bytes(gzip.compress(header + b"".join(rows)))
    schema = TableSchema(COLUMNS, parts=["part-00000.csv.gz"], rows=len(rows))
    (folder / "schema.json").write_text(json.dumps(schema.to_json()))
    storage.upload_folder(folder, key)


@pytest.mark.parametrize("kind", ["native", "stream"])
def test_a_bad_value_or_row_names_table_column_and_physical_line(tmp_path: Path, target: Target, kind: str) -> None:
    storage = LocalStorage(LocalStorageConfig(path=str(tmp_path / "my bucket")), tmp_path)  # file:///.../my%20bucket
    if kind == "stream":
        storage = StreamOnlyStorage(tmp_path / "bucket")
    good = [_csv(_row(1)), _csv(_row(5))]  # row 5 holds a newline: it spans lines 3 and 4
    bad_value = b'3,x,abc,2024-01-01 00:00:00+00,true,\\x00,"{}"\n'
    extra_field = b'3,x,1.5,2024-01-01 00:00:00+00,true,\\x00,"{}",surplus\n'
    _store_raw(storage, tmp_path, "raw/v/r1", [*good, bad_value])
    _store_raw(storage, tmp_path, "raw/v/r2", [*good, extra_field])
    with target.open() as wh:
        with pytest.raises(TaskFailed) as info:
            wh.load(_request(storage, "raw/v/r1", "bad", "full", "r1"), storage)
        assert str(info.value).startswith(
            "in_paths.bad: column amount, line 5 of part-00000.csv.gz: 'abc' is not a valid decimal(12,2) ("
        )
        with pytest.raises(TaskFailed) as info:
            wh.load(_request(storage, "raw/v/r2", "bad", "full", "r2"), storage)
        message = str(info.value)
        assert message.startswith("in_paths.bad: line 5 of part-00000.csv.gz: not a row of the table file contract (")
        assert "\n" not in message and "Possible" not in message


def test_a_null_key_matches_null_or_fails_as_the_capability_says(tmp_path: Path, target: Target) -> None:
    storage = StreamOnlyStorage(tmp_path / "bucket")
    null_key = b',x,1.5,2024-01-01 00:00:00+00,true,\\x00,"{}"\n'  # id is an unquoted empty field: NULL
    _store_raw(storage, tmp_path, "raw/n/r1", [_csv(_row(1)), null_key])
    _store_raw(storage, tmp_path, "raw/n/r2", [null_key.replace(b",x,", b",y,"), null_key.replace(b",x,", b",z,")])
    with target.open() as wh:
        if wh.capabilities.null_safe_keys:  # DuckDB: NULL is a key like any other, the last row wins
            wh.load(_request(storage, "raw/n/r1", "nulls", "upsert", "r1"), storage)
            assert wh.load(_request(storage, "raw/n/r2", "nulls", "upsert", "r2"), storage) == 1
            assert wh.query("SELECT id, name FROM in_paths.nulls ORDER BY id")[1] == [(1, _row(1)[1]), (None, "z")]
        else:  # PostgreSQL: keys compare with = (an index serves the merge), so a NULL key is refused
            with pytest.raises(TaskFailed, match=r"in_paths.nulls: 1 row\(s\) have a NULL primary key \(id\)"):
                wh.load(_request(storage, "raw/n/r1", "nulls", "upsert", "r1"), storage)
