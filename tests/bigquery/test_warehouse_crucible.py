"""The BigQuery warehouse on crucible-emulator, through Headrace's own module: what the
conformance suite reaches only indirectly (sweeps of dead working datasets, a failing statement's
kind, a datamart holding exactly its entries)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from headrace.warehouses.base import StatementFailed
from headrace.warehouses.bigquery import BigQueryConfig
from headrace.warehouses.bigquery.warehouse import BigQueryWarehouse

from tests.emulators import crucible

pytestmark = pytest.mark.integration


@pytest.fixture
def wh(crucible_endpoint: str) -> Iterator[BigQueryWarehouse]:
    block = crucible.warehouse_block(crucible_endpoint, f"hr-{uuid.uuid4().hex[:12]}")
    with BigQueryWarehouse(BigQueryConfig.model_validate(block, context={"resolved": True})) as warehouse:
        yield warehouse


def test_a_dead_tasks_working_dataset_is_a_leftover_and_a_live_ones_is_not(wh: BigQueryWarehouse) -> None:
    now = time.time()
    wh.register_working_schema("tr_a_dead", "r1", "transformation:a", "host:1:1", now - 10)  # expired
    wh.register_working_schema("tr_b_live", "r1", "transformation:b", "host:2:2", now + 3600)
    wh.register_working_schema("tr_c_gone", "r1", "transformation:c", "host:3:3", now - 10)  # no dataset
    for schema in ("tr_a_dead", "tr_b_live", "tr_x_unregistered"):
        wh.ensure_dataset(schema)
    found = wh.leftovers(time.time(), lambda owner: False)
    assert found == [("schema", "tr_a_dead"), ("schema", "tr_x_unregistered"), ("registration", "tr_c_gone")]
    for kind, name in found:
        wh.remove_leftover(kind, name)
    assert wh.leftovers(time.time(), lambda owner: False) == []
    assert "tr_b_live" in wh.schemas() and "tr_a_dead" not in wh.schemas()
    wh.unregister_working_schema("tr_b_live")
    assert wh.leftovers(time.time(), lambda owner: False) == [("schema", "tr_b_live")]


def test_a_statement_on_a_missing_table_fails_as_missing_and_the_dataset_is_dropped(wh: BigQueryWarehouse) -> None:
    wh.ensure_dataset("in_a")
    wh.execute("CREATE TABLE `in_a`.`t` AS SELECT 1 AS id")
    with wh.transformation_session("tr_t_1", {"staff": "in_a.t"}, 60) as session:
        session.execute("CREATE TABLE out1 AS SELECT id FROM staff")
        assert session.table_exists("out1") and not session.table_exists("staff_nope")
        with pytest.raises(StatementFailed) as info:
            session.execute("SELECT * FROM nope")
        assert info.value.kind == "missing" and "nope" in info.value.message
        assert session.publish("out_t", ["out1"]) == {"out1": 1}
    assert "tr_t_1" not in wh.schemas()
    assert wh.query("SELECT id FROM `out_t`.`out1`")[1] == [(1,)]


def test_a_datamart_holds_exactly_its_entries(wh: BigQueryWarehouse) -> None:
    wh.ensure_dataset("out_s")
    wh.execute("CREATE TABLE `out_s`.`a` AS SELECT 1 AS x")
    wh.execute("CREATE TABLE `out_s`.`b` AS SELECT 2 AS x")
    wh.publish_datamart("dm_s", [("out_s.a", "a"), ("out_s.b", "b")], "view")
    wh.publish_datamart("dm_s", [("out_s.b", "bee")], "table")
    assert wh.relations("dm_s") == {"bee": "TABLE"}
    assert wh.query("SELECT x FROM `dm_s`.`bee`")[1] == [(2,)]
