"""Every part format a warehouse lists in its capabilities (``part_formats``, ``local_part_formats``)
loads on every storage: one round trip per format, warehouse and storage (all types, NULL apart
from the empty string, a value holding a line end, several parts, a full load then an append whose
last part's rows come last). ``pgcopy`` parts are PostgreSQL's alone (tests/postgres); the other
warehouses refuse them with the table and part named. The rest of the suite runs on ``csv.gz``."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from headrace import partformats, plugins, tablefiles
from headrace.errors import TaskFailed
from headrace.storage.base import Storage
from headrace.tablefiles import TableWriter

from tests.conformance.targets import TARGETS, Target
from tests.conformance.test_load_paths import COLUMNS, _csv, _loaded, _request, _row
from tests.storage import backends

pytestmark = pytest.mark.integration

ROWS = 600  # 3 parts of 200 rows (crucible inserts loaded rows one by one: few rows)


def _formats(warehouse: str) -> list[str]:
    capabilities = plugins.get("warehouse", warehouse).capabilities
    listed = dict.fromkeys([*capabilities.part_formats, *capabilities.local_part_formats])
    return [f for f in listed if partformats.is_csv(f)]


# (warehouse, storage) -> why the emulators cannot run it, and where it is checked instead
NOT_HERE = {
    ("bigquery", "gcs"): "BigQuery loads gs:// parts itself, which crucible cannot (no load jobs over URIs): the "
    "job is asserted at the HTTP boundary (tests/bigquery/test_http_boundary.py)",
}
CASES = [
    pytest.param(
        name,
        fmt,
        kind,
        id=f"{name}-{fmt}-{kind}",
        marks=[pytest.mark.skip(reason=NOT_HERE[(name, kind)])] if (name, kind) in NOT_HERE else [],
    )
    for name in sorted(TARGETS)
    for fmt in _formats(name)
    for kind in backends.BACKENDS
]


def _open_target(name: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    made = TARGETS[name](request, tmp_path)
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(made.state_dir))
    for key, value in made.env.items():
        monkeypatch.setenv(key, value)
    return made


def _store(storage: Storage, tmp_path: Path, key: str, rows: list[bytes], fmt: str, part_bytes: int = 60_000) -> int:
    """The rows as parts of ``fmt`` written by the extractors' writer (in writes of 200 rows); how many parts."""
    folder = tmp_path / "parts" / key.replace("/", "_")
    with mock.patch.object(tablefiles, "_BUFFER", 16_000):  # the writer cuts parts when it flushes
        writer = TableWriter(folder, COLUMNS, part_bytes=part_bytes, part_format=fmt)
        for start in range(0, len(rows), 200):
            writer.write_csv(b"".join(rows[start : start + 200]), len(rows[start : start + 200]))
        writer.close()
    storage.upload_folder(folder, key)
    assert all(p.endswith("." + fmt) for p in writer.schema.parts)
    return len(writer.schema.parts)


@pytest.mark.parametrize(("name", "fmt", "kind"), CASES)
def test_each_listed_part_format_round_trips_on_each_storage(
    name: str, fmt: str, kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _open_target(name, request, tmp_path, monkeypatch)
    storage = backends.open_config(backends.config_for(kind, request, tmp_path), tmp_path / "storage-state")
    first = [_row(i) for i in range(1, ROWS + 1)]
    again = [_row(i, version=1) for i in range(1, 101)]  # the same keys again: they must come after
    assert _store(storage, tmp_path, "raw/f/r1", [_csv(r) for r in first], fmt, part_bytes=1) == 3
    _store(storage, tmp_path, "raw/f/r2", [_csv(r) for r in again], fmt)
    with target.open() as wh:
        assert wh.load(_request(storage, "raw/f/r1", "formats", "full", "r1"), storage) == ROWS
        assert wh.load(_request(storage, "raw/f/r2", "formats", "append", "r2"), storage) == len(again)
    loaded = _loaded(target, "formats")
    assert [r for r in loaded if r[0] > 100] == first[100:]  # NULL and '' apart, line ends, bytes, json exact
    assert sorted(r for r in loaded if r[0] <= 100) == sorted(first[:100] + again)


@pytest.mark.parametrize("name", ["duckdb", "snowflake", "bigquery"])
def test_pgcopy_parts_are_refused_by_warehouses_other_than_postgres(
    name: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _open_target(name, request, tmp_path, monkeypatch)
    storage = backends.open_config({"type": "local", "path": str(tmp_path / "storage")}, tmp_path / "state")
    folder = tmp_path / "parts"
    writer = TableWriter(folder, COLUMNS, part_format="pgcopy")
    (folder / "written.bin").write_bytes(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8 + b"\xff\xff")
    writer.adopt_part(folder / "written.bin", 0)
    writer.close()
    storage.upload_folder(folder, "raw/p/r1")
    with target.open() as wh, pytest.raises(TaskFailed) as info:
        wh.load(_request(storage, "raw/p/r1", "copied", "full", "r1"), storage)
    assert str(info.value).startswith("in_paths.copied: raw/p/r1/part-00000.pgcopy is a PostgreSQL binary COPY part")
    assert "compile the project again" in str(info.value)


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_duckdb_names_the_second_part_of_a_bad_value_or_row(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB reads all local parts in one ``read_csv``: the error still names the part and its line
    (local: one statement over the list; s3: part after part through the FIFO). After the failed
    full load (run without insertion order) an append still keeps its rows in arrival order."""
    target = _open_target("duckdb", request, tmp_path, monkeypatch)
    storage = backends.open_config(backends.config_for(kind, request, tmp_path), tmp_path / "storage-state")
    good = [_csv(_row(i)) for i in range(1, 401)]
    bad_value = b'999,x,abc,2024-01-01 00:00:00+00,true,\\x00,"{}"\n'
    extra_field = b'999,x,1.5,2024-01-01 00:00:00+00,true,\\x00,"{}",surplus\n'
    for key, bad in (("raw/v/r1", bad_value), ("raw/v/r2", extra_field)):
        # a part per write of 200 rows: the bad row is the 101st of the second part
        assert _store(storage, tmp_path, key, [*good[:300], bad, *good[300:]], "csv.zst", part_bytes=1) == 3
    line = 2 + sum(r.count(b"\n") for r in good[200:300])  # after the header and 100 rows (some span 2 lines)
    with target.open() as wh:
        with pytest.raises(TaskFailed) as info:
            wh.load(_request(storage, "raw/v/r1", "bad", "full", "r1"), storage)
        assert str(info.value).startswith(
            f"in_paths.bad: column amount, line {line} of part-00001.csv.zst: 'abc' is not a valid decimal(12,2) ("
        )
        with pytest.raises(TaskFailed) as info:
            wh.load(_request(storage, "raw/v/r2", "bad", "full", "r2"), storage)
        assert str(info.value).startswith(
            f"in_paths.bad: line {line} of part-00001.csv.zst: not a row of the table file contract ("
        )
        _store(storage, tmp_path, "raw/v/r3", good, "csv.zst")
        _store(storage, tmp_path, "raw/v/r4", [_csv(_row(i, version=1)) for i in range(1, 401)], "csv.zst")
        wh.load(_request(storage, "raw/v/r3", "ordered", "append", "r3"), storage)
        wh.load(_request(storage, "raw/v/r4", "ordered", "append", "r4"), storage)
        arrived = wh.query("SELECT id FROM in_paths.ordered ORDER BY rowid")[1]
    assert [r[0] for r in arrived] == list(range(1, 401)) * 2


def test_bigquery_streams_zstd_parts_it_cannot_read_from_the_bucket(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BigQuery reads gzip or plain CSV from gs://: a csv.zst run there (written for another
    warehouse) is decompressed and streamed, never handed to BigQuery as it is. The storage here
    says gs:// but is a folder: a load job over the URIs would fail on crucible (it has none)."""
    from headrace.storage.base import StorageCapabilities
    from headrace.storage.local import LocalStorage, LocalStorageConfig

    class GcsLike(LocalStorage):
        capabilities = StorageCapabilities(scheme="gs")

        def uri(self, key: str) -> str:
            return f"gs://lake/{key}"

    target = _open_target("bigquery", request, tmp_path, monkeypatch)
    storage = GcsLike(LocalStorageConfig(path=str(tmp_path / "lake")), tmp_path)
    first = [_row(i) for i in range(1, 301)]
    assert _store(storage, tmp_path, "raw/z/r1", [_csv(r) for r in first], "csv.zst", part_bytes=1) == 2
    with target.open() as wh:
        assert wh.load(_request(storage, "raw/z/r1", "zstd", "full", "r1"), storage) == len(first)
    assert _loaded(target, "zstd") == first
