"""The BigQuery plugin's config, type map, labels, job ids and the streamed CSV rewrite (no server)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from headrace.storage.local import LocalStorage, LocalStorageConfig
from headrace.typemaps import sql_type
from headrace.warehouses.base import StoredPart
from headrace.warehouses.bigquery import BigQueryConfig, jobs
from headrace.warehouses.bigquery.csvstream import MARK, SequencedPart, seq_of
from pydantic import ValidationError

pytestmark = pytest.mark.unit


def test_readers_are_iam_members_and_a_key_is_only_a_secret_reference() -> None:
    block = {"type": "bigquery", "project": "p", "readers": {"analysts": "group:analysts@example.com"}}
    assert BigQueryConfig.model_validate(block).readers == {"analysts": "group:analysts@example.com"}
    with pytest.raises(ValidationError, match="is not an IAM member"):
        BigQueryConfig.model_validate({**block, "readers": {"analysts": "analysts@example.com"}})
    with pytest.raises(ValidationError, match="a credential is never written in project files"):
        BigQueryConfig.model_validate({**block, "credentials_json": '{"type": "service_account"}'})
    assert BigQueryConfig.model_validate({**block, "credentials_json": "${secret:bq_key}"}).credentials_json


def test_portable_types_map_to_bigquery_types() -> None:
    assert [sql_type(t, "bigquery") for t in ("integer", "timestamp", "timestamp_tz", "json", "bytes")] == [
        "INT64",
        "DATETIME",
        "TIMESTAMP",
        "JSON",
        "BYTES",
    ]
    assert sql_type("decimal(12,2)", "bigquery") == "NUMERIC"
    assert sql_type("decimal(38,10)", "bigquery") == "BIGNUMERIC"  # NUMERIC keeps 9 places


def test_label_values_follow_bigquerys_rules_and_job_ids_depend_only_on_what_the_job_does() -> None:
    labels = jobs.labels(run="Run 2024-05-01T00:00:00+00:00", task="transformation:Sales", table="x" * 100)
    assert labels["headrace_run"] == "run_2024-05-01t00_00_00_00_00"
    assert labels["headrace_task"] == "transformation_sales"
    assert len(labels["headrace_table"]) == 63 and labels["headrace_table"] != "x" * 63
    assert jobs.job_id("load", "r1", "in_crm", "orders") == jobs.job_id("load", "r1", "in_crm", "orders")
    assert jobs.job_id("load", "r1", "in_crm", "orders") != jobs.job_id("load", "r2", "in_crm", "orders")


def _decoded(value: str) -> str:
    """What the load's SQL does to a streamed value (convert.text)."""
    return value.replace(MARK + "n", "\n").replace(MARK + "r", "\r").replace(MARK + "e", MARK)


def test_a_streamed_part_is_one_line_per_record_with_its_sequence_and_loses_nothing(tmp_path: Path) -> None:
    csv = 'id,name\n1,"two\nlines, ¶n and\r\nreturns"\n2,""\n3,\n'
    (tmp_path / "part-00000.csv.gz").write_bytes(gzip.compress(csv.encode()))
    storage = LocalStorage(LocalStorageConfig(path=str(tmp_path)), tmp_path)
    part = StoredPart("part-00000.csv.gz", storage.uri("part-00000.csv.gz"))
    lines = SequencedPart(storage, part, 3).read().decode().split("\n")
    assert lines == [
        "_hr_seq,id,name",
        f'{seq_of(3, 2)},1,"two¶nlines, ¶en and¶r¶nreturns"',
        f'{seq_of(3, 3)},2,""',  # an empty string stays quoted, NULL stays an empty field
        f"{seq_of(3, 4)},3,",
        "",
    ]
    assert _decoded(lines[1].split(",", 2)[2]) == '"two\nlines, ¶n and\r\nreturns"'
