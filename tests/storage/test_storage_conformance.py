"""One suite for every storage: local, S3 (moto), GCS (gcp-storage-emulator), Azure Blob (Azurite).

Each backend is the real plugin against a real server on 127.0.0.1. What a user (or runner,
retention, sweep) relies on: a published folder reads back byte for byte, keys with spaces
and unicode survive, native URIs have the form warehouses load, a half-written upload is
never listed as a run folder and is found by the sweep, retention keeps N folders.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.storage.backends import BACKENDS, BUCKET, config_for, open_config

pytestmark = pytest.mark.integration

BIG = 12 * 1024 * 1024  # above every SDK's single-request size (8 MiB here): goes multipart/resumable/blocks
URI = {
    "s3": "s3://headrace-test/{prefix}/{key}",
    "gcs": "gs://headrace-test/{prefix}/{key}",
    "azure": "azure://devstoreaccount1.blob.core.windows.net/headrace-test/{prefix}/{key}",
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any], Any]:
    config = config_for(request.param, request, tmp_path)
    return request.param, config, open_config(config, tmp_path / "state")


def table_folder(root: Path, parts: dict[str, bytes]) -> Path:
    root.mkdir(parents=True)
    for name, data in parts.items():
        (root / name).write_bytes(data)
    (root / "schema.json").write_text('{"columns": [], "parts": []}\n')
    return root


def half_upload(storage: Any, local: Path, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upload killed at its last step: the parts are stored, the commit (schema.json, rename) never happens."""
    from headrace.storage.local import LocalStorage

    if isinstance(storage, LocalStorage):
        monkeypatch.setattr(Path, "rename", lambda self, target: (_ for _ in ()).throw(KeyboardInterrupt))
    else:
        put = storage._put

        def killed_at_the_marker(name: str, path: Path) -> None:
            if path.name == "schema.json":
                raise KeyboardInterrupt
            put(name, path)

        monkeypatch.setattr(storage, "_put", killed_at_the_marker)
    with pytest.raises(KeyboardInterrupt):
        storage.upload_folder(local, key)
    monkeypatch.undo()


def sha(stream: Any) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def test_round_trip_of_a_multi_mib_part_and_odd_keys(
    backend: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, config, storage = backend
    chunks = count_gcs_chunks(monkeypatch) if kind == "gcs" else []
    big = os.urandom(BIG)
    local = table_folder(tmp_path / "out", {"part-00000.csv.gz": big, "naïve name ü €.csv": b"a,b\n1,2\n"})
    key = "raw/shop/orders/run 1"
    storage.upload_folder(local, key)

    assert storage.list("raw/shop/orders") == [
        f"{key}/naïve name ü €.csv",
        f"{key}/part-00000.csv.gz",
        f"{key}/schema.json",
    ]
    assert storage.folders("raw/shop/orders") == ["run 1"]
    with storage.open(f"{key}/part-00000.csv.gz") as stream:
        assert sha(stream) == hashlib.sha256(big).hexdigest()
    assert storage.read_bytes(f"{key}/naïve name ü €.csv") == b"a,b\n1,2\n"

    uri = storage.uri(f"{key}/part-00000.csv.gz")
    if kind == "local":
        assert uri.startswith("file:///") and uri.endswith("/raw/shop/orders/run%201/part-00000.csv.gz")
    else:
        assert uri == URI[kind].format(prefix=config["prefix"], key=f"{key}/part-00000.csv.gz")
        assert storage.capabilities.scheme == uri.split("://")[0]
        assert_went_in_pieces(kind, storage, f"{config['prefix']}/{key}/part-00000.csv.gz", chunks)

    storage.delete(key)
    assert storage.list("raw/shop/orders") == []
    assert storage.folders("raw/shop/orders") == []
    storage.delete(key)  # deleting nothing is no error


def count_gcs_chunks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records each chunk the GCS SDK sends of a resumable upload (the emulator keeps no trace of them)."""
    from google.cloud.storage._media.requests.upload import ResumableUpload

    sent: list[int] = []
    original = ResumableUpload.transmit_next_chunk

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(self.bytes_uploaded)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ResumableUpload, "transmit_next_chunk", counted)
    return sent


def assert_went_in_pieces(kind: str, storage: Any, name: str, gcs_chunks: list[int]) -> None:
    """The big part was uploaded in several requests (what the store records of it), not in one."""
    if kind == "s3":
        etag = storage.client.head_object(Bucket=BUCKET, Key=name)["ETag"]
        assert etag.strip('"').endswith("-2"), etag  # a multipart upload's ETag ends in -<parts>
    elif kind == "azure":
        committed, _ = storage.container.get_blob_client(name).get_block_list("committed")
        assert len(committed) == 3  # 12 MiB in 4 MiB blocks
    elif kind == "gcs":
        assert gcs_chunks == [0, 8 * 1024 * 1024]  # a resumable upload in 8 MiB chunks
        assert storage.bucket.get_blob(name).size == BIG


def test_missing_object_names_the_key_and_the_bucket(backend: tuple) -> None:
    _, config, storage = backend
    with pytest.raises(FileNotFoundError) as caught:
        storage.open("raw/shop/orders/r1/part-00009.csv.gz")
    assert "raw/shop/orders/r1/part-00009.csv.gz" in str(caught.value)
    assert (config.get("bucket") or config.get("container") or config["path"]) in str(caught.value)


def test_keys_stay_under_the_prefix(backend: tuple) -> None:
    _, _, storage = backend
    for key in ("../outside/x", "/etc/passwd", "raw/../../x"):
        with pytest.raises(ValueError):
            storage.uri(key)
        with pytest.raises(ValueError):
            storage.open(key)


def test_half_written_upload_is_invisible_then_swept_and_a_retry_replaces_it(
    backend: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, storage = backend
    prefix = "raw/shop/orders"
    storage.upload_folder(table_folder(tmp_path / "done", {"part-00000.csv.gz": b"done"}), f"{prefix}/r1")
    half_upload(
        storage,
        table_folder(tmp_path / "half", {"part-00000.csv.gz": b"half", "part-00001.csv.gz": b"extra"}),
        f"{prefix}/r2",
        monkeypatch,
    )
    assert storage.folders(prefix) == ["r1"]
    assert storage.stale_uploads(prefix, time.time() - 3600) == []  # a live upload is left alone
    # local storage stages a folder as <run>.incoming; object stores have the run folder without schema.json
    assert storage.stale_uploads(prefix, time.time() + 60) in ([f"{prefix}/r2"], [f"{prefix}/r2.incoming"])

    storage.upload_folder(table_folder(tmp_path / "retry", {"part-00000.csv.gz": b"again"}), f"{prefix}/r2")
    assert storage.folders(prefix) == ["r1", "r2"]
    assert storage.list(f"{prefix}/r2") == [f"{prefix}/r2/part-00000.csv.gz", f"{prefix}/r2/schema.json"]
    assert storage.read_bytes(f"{prefix}/r2/part-00000.csv.gz") == b"again"
    assert storage.stale_uploads(prefix, time.time() + 60) == []

    half_upload(storage, table_folder(tmp_path / "half3", {"part-00000.csv.gz": b"x"}), f"{prefix}/r3", monkeypatch)
    from headrace import sweep

    removed = sweep.sweep_files(tmp_path / "state", storage, [prefix], max_age_s=-60)
    assert [line for line in removed if "unfinished upload" in line] and storage.folders(prefix) == ["r1", "r2"]
    assert not [k for k in storage.list(prefix) if "/r3" in k]


class LoadHistory:
    """The two questions retention asks a warehouse (its tables are tested with the warehouses)."""

    def __init__(self, loaded_newest_first: list[str]):
        self.loaded = loaded_newest_first

    def table_load_runs(self, table: str) -> list[str]:
        return self.loaded

    def task_run_ids(self, task_id: str) -> set[str]:
        return set(self.loaded)


def test_retention_keeps_the_last_n_run_folders(backend: tuple, tmp_path: Path) -> None:
    _, _, storage = backend
    from headrace import retention

    prefix = "raw/shop/orders"
    runs = ["r1", "r2", "r3", "r4", "r5"]
    for run in runs:
        storage.upload_folder(table_folder(tmp_path / run, {"part-00000.csv.gz": run.encode()}), f"{prefix}/{run}")
    removed = retention.prune(storage, LoadHistory(runs[::-1]), prefix, "in_shop.orders", "t", "r5", 2)  # type: ignore[arg-type]
    assert removed == [f"{prefix}/r1", f"{prefix}/r2", f"{prefix}/r3"]
    assert storage.folders(prefix) == ["r4", "r5"]
    assert storage.list(f"{prefix}/r1") == []
