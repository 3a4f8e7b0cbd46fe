"""The example project's SQL (DuckDB's dialect) runs unchanged on DuckDB and, transpiled, on PostgreSQL:
the datamarts hold the same rows on both (issue 10, item 7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import open_test_warehouse, run_ok
from tests.pgserver import PgServer, fresh_database, warehouse_block
from tests.postgres.source import execute

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DATAMARTS = {
    "dm_sales.revenue_by_month": "month, country",
    "dm_sales.orders": "order_id",
    "dm_marketing.conversion_by_country": "month, country",
}


def _value(value: Any) -> Any:
    """One value as both warehouses can agree on it: numbers to 6 decimals, instants in UTC."""
    if isinstance(value, Decimal | float):
        return round(float(value), 6)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _datamart_rows(project: Path, state: Path, warehouse: dict[str, Any]) -> dict[str, list[tuple]]:
    run_ok("run", "--project", str(project))
    rows = {}
    with open_test_warehouse(warehouse, state) as wh:
        for table, order in DATAMARTS.items():
            columns, found = wh.query(f"SELECT * FROM {table} ORDER BY {order}")
            rows[table] = [tuple(columns)] + [tuple(_value(v) for v in row) for row in found]
    return rows


def test_example_datamarts_are_the_same_on_duckdb_and_postgres(
    tmp_path: Path, pg_server: PgServer, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    duck = tmp_path / "duck"
    run_ok("init", str(duck))
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(tmp_path / "duck-state"))
    config = yaml.safe_load((duck / "project.yaml").read_text())
    on_duckdb = _datamart_rows(duck, tmp_path / "duck-state", config["warehouse"])

    pg = tmp_path / "pg"
    run_ok("init", str(pg))
    request.addfinalizer(lambda: execute(pg_server, "postgres", "DROP ROLE IF EXISTS finance_bi"))
    config["warehouse"], env = warehouse_block(pg_server, fresh_database(pg_server, request))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    (pg / "project.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(tmp_path / "pg-state"))
    on_postgres = _datamart_rows(pg, tmp_path / "pg-state", config["warehouse"])

    assert [len(rows) - 1 for rows in on_duckdb.values()] == [60, 1595, 42]
    for table in DATAMARTS:
        assert on_postgres[table] == on_duckdb[table], table
