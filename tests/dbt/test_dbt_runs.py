"""A dbt project runs as a transformation (docs/dbt.md): on DuckDB and PostgreSQL its outputs equal
a plain `dbt build` of the same project on copies of the inputs; dbt's failures fail the task by
name; dbt is confined like transformation SQL and finds no secret; no secret is written to disk."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.dbt.conftest import EXAMPLE, shop_project
from tests.helpers import open_test_warehouse, run_ok, write_files
from tests.pgserver import PgServer, fresh_database, warehouse_block

pytestmark = pytest.mark.integration
MARTS = {
    "customer_lifetime": "customer_id, customer_name, country, paid_orders, spent_cents, first_order_on",
    "product_sales": "sku, product_name, items, revenue_cents",
}
FISH = """
-- analysts' code fishing for secrets through dbt's env_var(): it must find nothing
select '{{ env_var("HEADRACE_SECRET_FISH", "nothing") }}' as fish,
       '{{ env_var("HEADRACE_SECRET_WAREHOUSE_PASSWORD", "nothing") }}' as warehouse_password,
       '{{ env_var("PGPASSWORD", "nothing") }}' as pgpassword
"""


def _rows(config: dict, state: Path, sql: str) -> list[tuple]:
    with open_test_warehouse(config, state) as wh:
        return wh.query(sql)[1]


def _plain_build(python: Path, folder: Path, profile: dict, schema: str) -> None:
    """`dbt build` of the example, run directly (no Headrace) with ``profile``, the inputs in ``schema``."""
    project = folder / "project"
    shutil.copytree(EXAMPLE, project)
    sources = {
        "version": 2,
        "sources": [
            {
                "name": "inputs",
                "schema": schema,
                "tables": [{"name": "orders"}, {"name": "customers"}, {"name": "products"}],
            }
        ],
    }
    (project / "models" / "sources.yml").write_text(yaml.safe_dump(sources))
    (folder / "profiles.yml").write_text(yaml.safe_dump({"headrace": {"target": "t", "outputs": {"t": profile}}}))
    done = subprocess.run(
        [
            str(python),
            "-c",
            "from dbt.cli.main import cli; cli()",
            "build",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,
        env={"PATH": os.defpath, "HOME": str(folder), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_a_dbt_project_as_transformation_equals_a_plain_dbt_build_and_writes_no_secret(
    tmp_path: Path,
    pg_server: PgServer,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    dbt_python: dict[str, Path],
    warehouse: str,
) -> None:
    project = shop_project(tmp_path / "shop")
    state = tmp_path / "state"
    fresh = secrets.token_hex(16)  # a secret this run's process holds: no file may contain it
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(state))
    monkeypatch.setenv("HEADRACE_SECRET_FISH", fresh)
    monkeypatch.setenv("HEADRACE_DBT_KEEP", "1")  # keep dbt's target/ and logs/ to search them
    tr = project / "transformations" / "shop_dbt"
    write_files(tr, {"models/marts/fish.sql": FISH})
    config = yaml.safe_load((tr / "transformation.yaml").read_text())
    config["outputs"].append("fish")
    (tr / "transformation.yaml").write_text(yaml.safe_dump(config))
    wh_config = yaml.safe_load((project / "project.yaml").read_text())["warehouse"]
    hidden = [fresh]
    if warehouse == "postgres":
        database = fresh_database(pg_server, request)
        wh_config, env = warehouse_block(pg_server, database)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        hidden += list(env.values())
        settings = yaml.safe_load((project / "project.yaml").read_text())
        settings["warehouse"] = wh_config
        (project / "project.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))

    run_ok("run", "extractor:shop", "transformation:shop_dbt", "--project", str(project))

    manifest = json.loads((project / ".headrace" / "manifest.json").read_text())
    nodes = {n["unique_id"]: n for n in manifest["tasks"]["transformation:shop_dbt"]["dbt"]["nodes"]}
    assert nodes["model.shop.stg_orders"]["depends_on"] == ["source.shop.inputs.orders"]  # lineage from the inputs
    assert "spent_cents" in nodes["model.shop.customer_lifetime"]["columns"]
    if warehouse == "duckdb":  # compiled where dbt compiles without the warehouse: no Jinja left
        assert (
            '"main"."orders"' in nodes["model.shop.stg_orders"]["sql"]
            and "{{" not in nodes["model.shop.stg_orders"]["sql"]
        )
    fished = _rows(wh_config, state, "SELECT fish, warehouse_password, pgpassword FROM out_shop_dbt.fish")
    assert fished == [("nothing", "nothing", "nothing")]
    # a plain dbt build of the same project on copies of the inputs
    plain = tmp_path / "plain"
    plain.mkdir()
    if warehouse == "duckdb":
        copy = plain / "inputs.duckdb"
        with open_test_warehouse(wh_config, state) as wh:
            wh.execute(f"ATTACH '{copy}' AS copy")
            for table in ("orders", "customers", "products"):
                wh.execute(f"CREATE TABLE copy.main.{table} AS SELECT * FROM in_shop.{table}")
            wh.execute("DETACH copy")
        _plain_build(dbt_python["dbt-duckdb"], plain, {"type": "duckdb", "path": str(copy), "threads": 2}, "main")
        import duckdb

        con = duckdb.connect(str(copy), read_only=True)
        expected = {t: sorted(con.execute(f"SELECT {c} FROM main.{t}").fetchall()) for t, c in MARTS.items()}
        con.close()
    else:
        with open_test_warehouse(wh_config, state) as wh:
            wh.execute("CREATE SCHEMA plain_inputs")
            for table in ("orders", "customers", "products"):
                wh.execute(f"CREATE TABLE plain_inputs.{table} AS SELECT * FROM in_shop.{table}")
        profile = {
            "type": "postgres",
            "host": "127.0.0.1",
            "port": pg_server.port,
            "user": wh_config["user"],
            "password": pg_server.password,
            "dbname": database,
            "schema": "plain_out",
            "threads": 2,
        }
        _plain_build(dbt_python["dbt-postgres"], plain, profile, "plain_inputs")
        expected = {t: sorted(_rows(wh_config, state, f"SELECT {c} FROM plain_out.{t}")) for t, c in MARTS.items()}
    for table, columns in MARTS.items():
        got = sorted(_rows(wh_config, state, f"SELECT {columns} FROM out_shop_dbt.{table}"))
        assert got == expected[table] and len(got) > 5, table
    # no file the run wrote holds a secret: the state folder (dbt's target/, logs/, profiles.yml,
    # packages) and the project folder
    runs = list((state / "dbt" / "runs").iterdir())
    written = yaml.safe_load((runs[0] / "profiles.yml").read_text())["headrace"]["outputs"]["run"]
    if warehouse == "postgres":  # the run's own login, its password only in dbt's environment
        assert written["user"].startswith("hr_tr_shop_dbt_")
        assert written["password"] == "{{ env_var('HEADRACE_DBT_PASSWORD') }}"
    else:
        assert written["config_options"]["enable_external_access"] is False
    assert (runs[0] / "logs" / "dbt.log").is_file() and (runs[0] / "target" / "run_results.json").is_file()
    for root in (state, project):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                for secret in hidden:
                    assert secret.encode() not in data, f"{path} holds a secret"
