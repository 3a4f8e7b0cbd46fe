"""Which part format compile records for each extractor: the warehouse's fastest that the extractor writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from headrace import partformats
from headrace.project.compile import build_manifest
from headrace.project.loader import load_project

from tests.helpers import write_files

pytestmark = pytest.mark.unit

WAREHOUSES = {
    "duckdb": {"type": "duckdb", "path": "w.duckdb"},
    "postgres": {"type": "postgres", "host": "db", "database": "wh", "user": "u"},
    "bigquery": {"type": "bigquery", "project": "p", "location": "EU"},
    "snowflake": {
        "type": "snowflake",
        "account": "a",
        "user": "u",
        "warehouse": "w",
        "database": "d",
        "role": "r",
        "password": "${secret:sf}",
    },
}
STORAGES = {"local": None, "s3": {"type": "s3", "bucket": "b", "region": "eu-west-1"}}
PG_EXTRACTOR = {
    "type": "postgres",
    "connection": {"host": "src", "database": "crm", "user": "u"},
    "tables": [{"name": "orders", "source": "public.orders"}],
}
FILE_EXTRACTOR = {"type": "file", "tables": [{"name": "t", "path": "data/t.csv", "columns": {"id": "integer"}}]}


@pytest.mark.parametrize(
    ("warehouse", "storage", "postgres", "file"),
    [
        ("duckdb", "local", "csv.zst", "csv.zst"),
        ("postgres", "local", "pgcopy", "csv"),
        ("postgres", "s3", "pgcopy.zst", "csv.zst"),
        ("bigquery", "s3", "csv.gz", "csv.gz"),
        ("snowflake", "s3", "csv.gz", "csv.gz"),  # fakesnow cannot load zstd: not verified, not chosen
    ],
)
def test_each_extractor_gets_the_format_its_warehouse_loads_fastest(
    tmp_path: Path, warehouse: str, storage: str, postgres: str, file: str
) -> None:
    project = {"name": "p", "warehouse": WAREHOUSES[warehouse]}
    if STORAGES[storage]:
        project["storage"] = STORAGES[storage]
    root = write_files(
        tmp_path / "p",
        {
            "project.yaml": yaml.safe_dump(project),
            "extractors/crm.yaml": yaml.safe_dump(PG_EXTRACTOR),
            "extractors/files.yaml": yaml.safe_dump(FILE_EXTRACTOR),
            "data/t.csv": "id\n1\n",
        },
    )
    manifest = build_manifest(load_project(root))
    assert manifest.tasks["extractor:crm"].part_format == postgres
    assert manifest.tasks["extractor:files"].part_format == file


def test_part_format_names_round_trip() -> None:
    for name, (fmt, compression) in partformats.FORMATS.items():
        assert partformats.of_schema(fmt, compression) == name
        assert partformats.of_name(partformats.part_name(3, name)) == name
    assert partformats.of_name("part-00000.pgcopy.zst") == "pgcopy.zst"
    assert partformats.of_name("part-00000.parquet") is None
    assert partformats.choose(("pgcopy", "csv"), ("csv.gz", "csv")) == "csv"
    assert partformats.choose(("csv.zst",), ("csv.gz",)) == "csv.gz"  # nothing in common: the contract's default
