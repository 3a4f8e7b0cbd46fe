"""``headrace docs`` / ``build_site``: the site's data, live facts from the warehouse, secrets kept out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from headrace.docsite import build_site
from headrace.project.compile import compile_project
from headrace.project.manifest import read_manifest

from tests.golden_files import assert_golden
from tests.helpers import REPO, TEMPLATE, run_ok

CRM_SECRET = "crm-secret-Zq81xV"  # the value of ${secret:crm_password}: never in the site


def site(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "data.json").read_text(encoding="utf-8"))


def site_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.is_file())


@pytest.mark.unit
def test_the_example_projects_site_data_matches_its_golden_copy(tmp_path: Path) -> None:
    """Without the warehouse nothing in the data is volatile but the commit, which is left out."""
    manifest = compile_project(TEMPLATE, tmp_path / "manifest.json")
    index = build_site(manifest, TEMPLATE, tmp_path / "site", with_warehouse=False)
    assert index == tmp_path / "site" / "index.html"
    data = site(tmp_path / "site")
    data["project"]["commit"] = None
    assert_golden("docs_site_project_template.json", json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    assert data["warehouse"] == {
        "live": False,
        "note": "built without the warehouse (--no-warehouse): no live row counts or freshness",
    }
    files = sorted(p.name for p in (tmp_path / "site").iterdir())
    assert files == ["data.js", "data.json", "index.html", "site.css", "site.js"]
    page = index.read_text(encoding="utf-8")
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    graph = build_manifest_counts(manifest)
    assert page.count("data-node=") == graph["nodes"] and page.count("data-edge=") == graph["edges"]
    assert 'data-node="in_shop.orders"' in page and 'data-edge="extractor:shop->in_shop.orders"' in page


def build_manifest_counts(path: Path) -> dict[str, int]:
    """Nodes and edges the picture must draw, counted from the manifest (not from the lineage code)."""
    manifest = read_manifest(path)
    tables: set[str] = set()
    sources = edges = 0
    for task in manifest.tasks.values():
        writes = list(task.writes)
        if task.kind == "datamart":
            writes += [f"{task.target_schema}.{t.name}" for t in task.tables]
        if task.kind == "extractor":
            sources += len(task.tables)
            edges += len(task.tables)  # source -> extractor
        else:
            edges += len(task.reads)
        edges += len(writes)
        tables |= {*task.reads, *writes}
    return {"nodes": len(manifest.tasks) + len(tables) + sources, "edges": edges}


@pytest.mark.integration
@pytest.mark.slow
def test_after_a_run_the_site_shows_row_counts_freshness_and_warehouse_columns(
    ran_example: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    result = run_ok("docs", str(ran_example), "-o", str(out))
    assert f"wrote {out / 'index.html'}" in result.stdout and "note:" not in result.stdout
    data = site(out)
    assert data["warehouse"] == {"live": True, "note": ""}
    tables = {t["id"]: t for t in data["tables"]}
    assert tables["in_shop.orders"]["rows"] == 2000
    assert tables["dm_sales.orders"]["rows"] == tables["out_sales.orders_enriched"]["rows"] > 0
    for table in tables.values():  # every table of every stage has rows and a freshness
        assert table["rows"] is not None and table["fresh_at"], table["id"]
    orders = tables["out_sales.orders_enriched"]
    columns = {c["name"]: c for c in orders["columns"]}
    assert columns["amount_eur"]["type"] == "decimal(14,2)" and columns["amount_eur"]["known_from"] == "warehouse"
    assert "in_reference.currencies.eur_rate" in columns["amount_eur"]["from"]
    runs = {c["id"]: c for c in data["components"]}
    assert runs["transformation:sales"]["last_run"]["status"] == "success"
    assert runs["extractor:shop"]["last_success"]


@pytest.mark.integration
@pytest.mark.slow
def test_a_locked_duckdb_file_gives_a_site_with_a_note(ran_example: Path, tmp_path: Path) -> None:
    """A task holding DuckDB's write lock (another process) must not fail or stall the build."""
    path = ran_example / ".headrace" / "warehouse.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(300)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        manifest = compile_project(ran_example, tmp_path / "manifest.json")
        build_site(manifest, ran_example, tmp_path / "site")
    finally:
        holder.kill()
        holder.wait()
    data = site(tmp_path / "site")
    assert data["warehouse"]["live"] is False
    assert data["warehouse"]["note"].startswith("the duckdb warehouse could not be read:")
    assert "lock" in data["warehouse"]["note"].lower()
    assert all(t["rows"] is None for t in data["tables"])
    assert 'id="warehouse-note"' in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def crm_project(root: Path, warehouse: dict[str, Any]) -> Path:
    project = root / "crm"
    shutil.copytree(REPO / "examples" / "crm_postgres", project)
    settings = yaml.safe_load((project / "project.yaml").read_text(encoding="utf-8"))
    settings["warehouse"] = warehouse
    (project / "project.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return project


@pytest.mark.integration
def test_secrets_are_shown_as_references_and_their_values_are_nowhere_in_the_site(
    pg_server: Any, pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real PostgreSQL warehouse whose password is a secret resolved from the environment."""
    from tests.pgserver import warehouse_block

    block, env = warehouse_block(pg_server, pg_database)
    for name, value in {**env, "HEADRACE_SECRET_CRM_PASSWORD": CRM_SECRET}.items():
        monkeypatch.setenv(name, value)
    project = crm_project(tmp_path, block)
    manifest = compile_project(project, tmp_path / "manifest.json")
    build_site(manifest, project, tmp_path / "site")
    data = site(tmp_path / "site")
    assert data["warehouse"]["live"] is True  # the secret was resolved to read the warehouse
    crm = next(c for c in data["components"] if c["id"] == "extractor:crm")
    assert crm["config"]["connection"]["password"] == "${secret:crm_password}"
    assert data["project"]["warehouse"]["password"] == "${secret:warehouse_password}"
    text = site_text(tmp_path / "site")
    assert CRM_SECRET not in text and pg_server.password not in text


@pytest.mark.integration
def test_a_postgresql_warehouse_that_is_down_gives_a_site_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.pgserver import free_port

    password = "down-secret-4Hq0"
    monkeypatch.setenv("HEADRACE_SECRET_WAREHOUSE_PASSWORD", password)
    block = {
        "type": "postgres",
        "host": "127.0.0.1",
        "port": free_port(),  # nothing listens there
        "database": "analytics",
        "user": "headrace",
        "password": "${secret:warehouse_password}",
    }
    project = crm_project(tmp_path, block)
    manifest = compile_project(project, tmp_path / "manifest.json")
    build_site(manifest, project, tmp_path / "site")
    data = site(tmp_path / "site")
    assert data["warehouse"]["live"] is False
    assert data["warehouse"]["note"].startswith("the postgres warehouse could not be read:")
    assert password not in site_text(tmp_path / "site")


@pytest.mark.unit
def test_columns_of_an_extractor_that_declares_none_come_from_its_newest_stored_schema_json(tmp_path: Path) -> None:
    """The PostgreSQL extractor of examples/crm_postgres declares no columns; its last extract's
    schema.json (local storage) tells them, also with no warehouse file yet, and `SELECT *` over it expands."""
    project = crm_project(tmp_path, {"type": "duckdb", "path": "warehouse.duckdb"})
    sql = project / "transformations" / "sales" / "20_everything.sql"
    sql.write_text("CREATE TABLE all_customers AS SELECT * FROM customers;\n", encoding="utf-8")
    spec = project / "transformations" / "sales" / "transformation.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "  - all_customers\n", encoding="utf-8")
    prefix = project / ".headrace" / "storage" / "raw" / "crm" / "customers"
    columns = [
        {"name": "id", "type": "integer"},
        {"name": "name", "type": "string"},
        {"name": "country", "type": "string"},
    ]
    for run, cols in (("20260101T000000_aaaaaa", columns[:2]), ("20260102T000000_bbbbbb", columns)):
        (prefix / run).mkdir(parents=True)
        (prefix / run / "schema.json").write_text(json.dumps({"columns": cols, "parts": []}), encoding="utf-8")
    (prefix / "20260103T000000_cccccc").mkdir()  # an extract still uploading: no schema.json yet
    manifest = compile_project(project, tmp_path / "manifest.json")
    build_site(manifest, project, tmp_path / "site")
    data = site(tmp_path / "site")
    assert data["warehouse"]["live"] is False  # nothing ran: no DuckDB file
    tables = {t["id"]: t for t in data["tables"]}
    customers = tables["in_crm.customers"]["columns"]
    assert [(c["name"], c["type"], c["known_from"]) for c in customers] == [
        ("id", "integer", "schema.json"),
        ("name", "string", "schema.json"),
        ("country", "string", "schema.json"),
    ]
    assert tables["in_crm.orders"]["columns"] == []  # never extracted
    everything = {c["name"]: c for c in tables["out_sales.all_customers"]["columns"]}
    assert list(everything) == ["id", "name", "country"]
    assert everything["country"]["from"] == ["in_crm.customers.country"]


@pytest.mark.integration
def test_headrace_docs_no_warehouse_writes_the_site_into_the_projects_state_folder(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns("__pycache__", "__init__.py", ".headrace"))
    result = run_ok("docs", str(project), "--no-warehouse")
    index = project / ".headrace" / "docs" / "index.html"
    assert f"wrote {index}" in result.stdout
    assert "12 tables, 7 components" in result.stdout
    assert "note: built without the warehouse (--no-warehouse)" in result.stdout
    assert not (project / ".headrace" / "warehouse.duckdb").exists()  # the warehouse was left alone
