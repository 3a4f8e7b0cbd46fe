"""A container transformation's inputs: warehouses export a table as table files (CSV parts and
schema.json of the contract), and the files load back into the same values, NULL and "" apart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from headrace.storage.local import LocalStorage, LocalStorageConfig
from headrace.tablefiles import TableSchema
from headrace.warehouses.base import LoadRequest, StoredPart

from tests.helpers import open_test_warehouse
from tests.pgserver import PgServer, fresh_database

pytestmark = [pytest.mark.workers, pytest.mark.integration]

TYPES = {
    "id": ("integer", "BIGINT", "bigint"),
    "note": ("string", "VARCHAR", "text"),
    "amount": ("decimal(12,2)", "DECIMAL(12,2)", "numeric(12,2)"),
    "ratio": ("float", "DOUBLE", "double precision"),
    "ok": ("boolean", "BOOLEAN", "boolean"),
    "day": ("date", "DATE", "date"),
    "seen": ("timestamp", "TIMESTAMP", "timestamp"),
    "seen_tz": ("timestamp_tz", "TIMESTAMPTZ", "timestamptz"),
    "doc": ("json", "JSON", "jsonb"),
    "raw": ("bytes", "BLOB", "bytea"),
}
ROWS = [
    "(1, 'plain', 12.50, 0.25, true, DATE '2024-02-29', TIMESTAMP '2024-05-01 13:45:00', "
    "TIMESTAMPTZ '2024-05-01 13:45:00+02', '{\"a\": [1, 2]}', {bytes})",
    "(2, '', NULL, NULL, false, NULL, NULL, NULL, NULL, NULL)",
    "(3, NULL, -0.01, 1e300, NULL, DATE '1999-12-31', NULL, NULL, NULL, NULL)",
    "(4, 'comma, \"quote\"\nand a line break', 0, 0, true, NULL, NULL, NULL, NULL, NULL)",
]


def _roundtrip(wh: Any, tmp_path: Path, column: int, bytes_value: str) -> None:
    """``column``: which DDL type of TYPES; ``bytes_value``: the bytes 00 ff in the warehouse's SQL."""
    wh.execute("CREATE SCHEMA src")
    wh.execute(f"CREATE TABLE src.t ({', '.join(f'{name} {types[column]}' for name, types in TYPES.items())})")
    wh.execute(f"INSERT INTO src.t VALUES {', '.join(r.replace('{bytes}', bytes_value) for r in ROWS)}")
    folder = tmp_path / "export" / "t"
    schema = wh.export_table("src", "t", folder)
    assert [(c.name, c.type) for c in schema.columns] == [(n, t[0]) for n, t in TYPES.items()]
    written = json.loads((folder / "schema.json").read_text())
    assert written["parts"] == schema.parts and all((folder / p).is_file() for p in schema.parts)
    storage = LocalStorage(LocalStorageConfig(path=str(tmp_path / "storage")), tmp_path)
    storage.upload_folder(folder, "in/t/run")
    files = TableSchema.from_json(written)
    parts = [StoredPart(f"in/t/run/{p}", storage.uri(f"in/t/run/{p}")) for p in files.parts]
    loaded = wh.load(LoadRequest("back", "t", parts, files, "full", [], "run"), storage)
    assert loaded == len(ROWS)
    names = ", ".join(TYPES)
    _, before = wh.query(f"SELECT {names} FROM src.t ORDER BY id")
    _, after = wh.query(f"SELECT {names} FROM back.t ORDER BY id")
    assert after == before
    assert after[1][1] == "" and after[2][1] is None  # the empty string and NULL stay apart
    loaded_table = wh.export_table("back", "t", tmp_path / "again")  # it has _headrace_loaded_at and _run_id
    assert [c.name for c in loaded_table.columns] == list(TYPES)  # Headrace's own columns are left out


def test_duckdb_exports_a_table_that_loads_back_unchanged(tmp_path: Path) -> None:
    with open_test_warehouse({"type": "duckdb"}, tmp_path / "state") as wh:
        _roundtrip(wh, tmp_path, 1, "from_hex('00ff')")


def test_postgres_exports_a_table_that_loads_back_unchanged(
    tmp_path: Path, pg_server: PgServer, request: pytest.FixtureRequest
) -> None:
    database = fresh_database(pg_server, request)
    with open_test_warehouse({"type": "postgres", **pg_server.config(database)}, tmp_path / "state") as wh:
        _roundtrip(wh, tmp_path, 2, "'\\x00ff'::bytea")
