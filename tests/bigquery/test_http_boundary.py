"""What crucible-emulator cannot show, asserted at the HTTP boundary: the real
google-cloud-bigquery SDK talks to a local recording server answering like BigQuery's REST API
(tests/bigquery/fakeapi.py), and the tests read the requests Headrace made. These assert the
requests, not BigQuery's answers to them: docs/bigquery.md lists what only a real account confirms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headrace.storage.base import StorageCapabilities
from headrace.storage.local import LocalStorage, LocalStorageConfig
from headrace.tablefiles import Column, TableSchema
from headrace.warehouses.base import LoadRequest, StoredPart
from headrace.warehouses.bigquery import BigQueryConfig, jobs
from headrace.warehouses.bigquery import client as bq_client
from headrace.warehouses.bigquery.warehouse import BigQueryWarehouse

from tests.bigquery import fakeapi

pytestmark = pytest.mark.integration

PROJECT = "acme-data"
LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
COLUMNS = [Column("id", "integer"), Column("name", "string"), Column("doc", "json")]


class GcsLikeStorage(LocalStorage):
    """Parts whose native URIs are gs://: BigQuery reads them itself, Headrace never opens them."""

    capabilities = StorageCapabilities(scheme="gs")

    def open(self, key: str) -> Any:
        raise AssertionError(f"{key} was streamed; a gs:// part must be loaded by BigQuery from its URI")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[fakeapi.FakeBigQuery]:
    from google.auth.credentials import AnonymousCredentials

    # no Google account here: the SDK sends anonymous requests to the recording server
    monkeypatch.setattr(bq_client, "credentials", lambda config: AnonymousCredentials())
    with fakeapi.serve() as server:
        yield server


def _warehouse(fake: fakeapi.FakeBigQuery, **extra: Any) -> BigQueryWarehouse:
    block = {"type": "bigquery", "project": PROJECT, "location": "EU", "api_endpoint": fake.endpoint, **extra}
    return BigQueryWarehouse(BigQueryConfig.model_validate(block, context={"resolved": True}))


def _request(mode: str = "full", keys: tuple[str, ...] = ()) -> LoadRequest:
    parts = [
        StoredPart(f"raw/crm/orders/r1/part-0000{i}.csv.gz", f"gs://lake/raw/crm/orders/r1/part-0000{i}.csv.gz")
        for i in range(2)
    ]
    files = TableSchema(COLUMNS, parts=[p.key.rsplit("/", 1)[1] for p in parts], rows=10)
    return LoadRequest("in_crm", "orders", parts, files, mode, list(keys), "r1 2024-05-01T00:00", "k", {"cursor": 5})


def _labels_ok(labels: dict[str, str]) -> None:
    assert {"headrace_run", "headrace_schema", "headrace_table", "headrace_step"} <= set(labels)
    assert all(LABEL_VALUE.match(v) for v in labels.values()), labels


def test_a_gs_load_is_one_job_over_the_uris_with_an_explicit_schema_and_no_autodetect(
    tmp_path: Path, fake: fakeapi.FakeBigQuery
) -> None:
    storage = GcsLikeStorage(LocalStorageConfig(path=str(tmp_path)), tmp_path)
    with _warehouse(fake) as wh:
        wh.load(_request(), storage)
    loads = [j for j in fake.inserted_jobs() if "load" in j["configuration"]]
    assert len(loads) == 1
    load = loads[0]["configuration"]["load"]
    assert load["sourceUris"] == [p.uri for p in _request().parts]
    assert load["schema"]["fields"] == [{"name": c.name, "type": "STRING", "mode": "NULLABLE"} for c in COLUMNS]
    assert load["autodetect"] is False
    assert (load["sourceFormat"], load["skipLeadingRows"], load["allowQuotedNewlines"]) == ("CSV", "1", True)
    assert (load["nullMarker"], load["quote"], load["fieldDelimiter"], load["encoding"]) == ("", '"', ",", "UTF-8")
    assert load["writeDisposition"] == "WRITE_TRUNCATE" and load["destinationTable"]["datasetId"] == "headrace_staging"
    assert loads[0]["configuration"]["jobTimeoutMs"] == str(3600 * 1000)
    _labels_ok(loads[0]["configuration"]["labels"])
    assert loads[0]["configuration"]["labels"]["headrace_run"] == "r1_2024-05-01t00_00"


def test_job_ids_are_deterministic_so_a_retry_finds_the_committed_load(
    tmp_path: Path, fake: fakeapi.FakeBigQuery
) -> None:
    storage = GcsLikeStorage(LocalStorageConfig(path=str(tmp_path)), tmp_path)
    request = _request()
    commit_id = jobs.job_id("load", request.run_id, "in_crm", "orders") + "_0"
    with _warehouse(fake) as wh:
        assert wh.load(request, storage) == 0  # the fake answers every count with 0
    commit = fake.jobs[commit_id]
    assert commit["configuration"]["query"]["query"].startswith("CREATE OR REPLACE TABLE `in_crm`.`orders` AS SELECT")
    _labels_ok(commit["configuration"]["labels"])
    # a retried task (another process, same run): the commit job's id is taken and it succeeded,
    # so the load is not run again and its row count comes from that job's labels
    fake.jobs[commit_id]["configuration"]["labels"]["headrace_rows"] = "7"
    with _warehouse(fake) as wh:
        assert wh.load(request, storage) == 7
    assert commit_id[:-2] + "_1" not in fake.jobs  # the insert was refused (409) and nothing else ran it
    # an attempt whose commit job failed is superseded by the next id of the sequence
    fake.seed_job(PROJECT, commit_id.replace("_0", "_0x"))  # unrelated id: untouched
    fake.jobs[commit_id]["status"]["errorResult"] = {"reason": "invalid", "message": "boom"}
    with _warehouse(fake) as wh:
        wh.load(request, storage)
    assert commit_id[:-2] + "_1" in fake.jobs


def test_an_append_commits_data_state_and_history_in_one_transaction(
    tmp_path: Path, fake: fakeapi.FakeBigQuery
) -> None:
    storage = GcsLikeStorage(LocalStorageConfig(path=str(tmp_path)), tmp_path)
    fields = [
        {"name": "id", "type": "INTEGER"},
        {"name": "name", "type": "STRING"},
        {"name": "doc", "type": "JSON"},
        {"name": "_headrace_loaded_at", "type": "TIMESTAMP"},
        {"name": "_headrace_run_id", "type": "STRING"},
    ]
    fake.tables["in_crm.orders"] = {
        "tableReference": {"projectId": PROJECT, "datasetId": "in_crm", "tableId": "orders"},
        "schema": {"fields": fields},
    }
    with _warehouse(fake) as wh:
        wh.load(_request("upsert", ("id",)), storage)
    script = fake.queries()[-1]
    assert script.startswith("BEGIN TRANSACTION;\nMERGE `in_crm`.`orders` AS t USING")
    assert "INSERT INTO `headrace_meta`.`table_loads`" in script and "MERGE `headrace_meta`.`state`" in script
    assert script.endswith("COMMIT TRANSACTION")


def test_a_datamart_dataset_lists_its_readers_and_its_views_are_authorized_on_the_sources(
    fake: fakeapi.FakeBigQuery,
) -> None:
    readers = {"analysts": "group:analysts@example.com", "bi": "serviceAccount:bi@acme-data.iam.gserviceaccount.com"}
    with _warehouse(fake, readers=readers) as wh:
        wh.ensure_dataset("out_sales")
        fake.datasets["dm_sales"] = {
            "datasetReference": {"projectId": PROJECT, "datasetId": "dm_sales"},
            "etag": "e",
            "access": [
                {"role": "OWNER", "specialGroup": "projectOwners"},
                {"role": "READER", "userByEmail": "former@example.com"},
            ],
        }
        wh.publish_datamart("dm_sales", [("out_sales.revenue", "revenue")], "view", ["analysts", "bi"])
    access = fake.patches("dm_sales")[-1]["access"]
    assert {"role": "READER", "groupByEmail": "analysts@example.com"} in access
    assert {"role": "READER", "userByEmail": "bi@acme-data.iam.gserviceaccount.com"} in access
    assert {"role": "OWNER", "specialGroup": "projectOwners"} in access  # not Headrace's: kept
    assert {"role": "READER", "userByEmail": "former@example.com"} not in access  # former reader: removed
    source_access = fake.patches("out_sales")[-1]["access"]
    assert {"dataset": {"dataset": {"projectId": PROJECT, "datasetId": "dm_sales"}, "targetTypes": ["VIEWS"]}} in [
        {k: v for k, v in e.items() if k == "dataset"} for e in source_access
    ]


def test_an_unknown_reader_is_a_configuration_error_naming_the_fix(fake: fakeapi.FakeBigQuery) -> None:
    from headrace.errors import ConfigError

    with _warehouse(fake) as wh, pytest.raises(ConfigError, match=r"warehouse.readers: no IAM member for .* analysts"):
        wh.publish_datamart("dm_sales", [("out_sales.revenue", "revenue")], "view", ["analysts"])


def test_inputs_are_clones_and_the_sql_runs_as_the_transformation_account_on_its_dataset_only(
    fake: fakeapi.FakeBigQuery, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = "headrace-transform@acme-data.iam.gserviceaccount.com"
    impersonated: list[str] = []

    def impersonate(config: Any, base: Any, who: str, lifetime_s: int) -> Any:
        impersonated.append(who)  # the token exchange needs Google's IAM Credentials API: not here
        return bq_client.make_client(config, base)

    monkeypatch.setattr(bq_client, "impersonated", impersonate)
    with _warehouse(fake, transformation_service_account=account) as wh:
        wh.register_working_schema("tr_sales_abc", "r1", "transformation:sales", "h:1:2", 0)
        with wh.transformation_session("tr_sales_abc", {"orders": "in_crm.orders"}, 600) as session:
            session.execute("CREATE TABLE revenue AS SELECT 1 AS x")
    copies = [j["configuration"] for j in fake.inserted_jobs() if "copy" in j["configuration"]]
    assert copies and copies[0]["copy"]["operationType"] == "CLONE"
    assert copies[0]["copy"]["sourceTables"][0] == {"projectId": PROJECT, "datasetId": "in_crm", "tableId": "orders"}
    assert copies[0]["copy"]["destinationTable"] == {
        "projectId": PROJECT,
        "datasetId": "tr_sales_abc",
        "tableId": "orders",
    }
    assert {"role": "WRITER", "userByEmail": account} in fake.patches("tr_sales_abc")[-1]["access"]
    assert impersonated == [account]
    sql = [j["configuration"] for j in fake.inserted_jobs() if "query" in j["configuration"]][-1]
    assert sql["query"]["defaultDataset"] == {"projectId": PROJECT, "datasetId": "tr_sales_abc"}
    assert sql["labels"]["headrace_task"] == "transformation_sales"
    assert "tr_sales_abc" not in fake.datasets  # dropped afterwards
