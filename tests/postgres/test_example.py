"""examples/crm_postgres runs as its README says, on DuckDB and on a PostgreSQL warehouse."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, run_ok
from tests.pgserver import PgServer, fresh_database, warehouse_block
from tests.postgres.source import execute

pytestmark = pytest.mark.integration
EXAMPLE = REPO / "examples" / "crm_postgres"


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_crm_example_loads_changes_incrementally(
    tmp_path: Path,
    pg_server: PgServer,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    warehouse: str,
) -> None:
    from headrace.resolve import resolved_config
    from headrace.secrets import SecretResolver
    from headrace.warehouses import open_warehouse

    project = tmp_path / "crm"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".headrace"))
    crm = fresh_database(pg_server, request)
    execute(pg_server, crm, (EXAMPLE / "seed.sql").read_text())
    text = (project / "extractors/crm.yaml").read_text().replace("database: crm", f"database: {crm}")
    (project / "extractors/crm.yaml").write_text(text)
    for key, value in {
        "CRM_HOST": "127.0.0.1",
        "CRM_PORT": str(pg_server.port),
        "CRM_USER": "postgres",
        "HEADRACE_SECRET_CRM_PASSWORD": pg_server.password,
        "HEADRACE_STATE_DIR": str(tmp_path / "state"),
    }.items():
        monkeypatch.setenv(key, value)
    config = yaml.safe_load((project / "project.yaml").read_text())
    if warehouse == "postgres":  # the login is dropped after its database (finalizers run last-in first-out)
        request.addfinalizer(lambda: execute(pg_server, "postgres", "DROP ROLE IF EXISTS crm_bi"))
        config["warehouse"], env = warehouse_block(pg_server, fresh_database(pg_server, request))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        (project / "project.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    def query(sql: str) -> list[tuple]:
        resolved = resolved_config(
            "warehouse", config["warehouse"], SecretResolver(project), "project.yaml", "warehouse"
        )
        with open_warehouse(resolved, tmp_path / "state") as wh:
            return wh.query(sql)[1]

    run_ok("run", "--project", str(project))
    assert query("SELECT id, status FROM in_crm.orders ORDER BY id") == [(100, "paid"), (101, "new"), (102, "paid")]
    execute(pg_server, crm, (EXAMPLE / "changes.sql").read_text())
    run_ok("run", "--project", str(project))
    assert query("SELECT id, status FROM in_crm.orders ORDER BY id") == [
        (100, "paid"),
        (101, "paid"),
        (102, "paid"),
        (104, "paid"),
    ]
    assert query("SELECT id, name, email FROM in_crm.customers ORDER BY id") == [
        (1, "Ada Roasters", "ada@example.com"),
        (2, "Bruno Caffè", "ciao@example.com"),
        (3, "Chai & Co", None),
        (4, "Dunes Coffee", None),
    ]
    assert query("SELECT customer_id, paid_orders, revenue FROM dm_sales.revenue_by_customer ORDER BY 1") == [
        (1, 1, Decimal("185.00")),
        (2, 1, Decimal("19.80")),
        (3, 2, Decimal("48.20")),
        (4, 0, Decimal("0")),
    ]
    assert query("SELECT sku FROM in_crm.products ORDER BY sku") == [("BEAN-1",), ("BEAN-2",)]
    if warehouse == "postgres":
        shown = run_ok("datamart", "credentials", "sales", "--project", str(project)).stdout
        assert "crm_bi" in shown and "password: " in shown
