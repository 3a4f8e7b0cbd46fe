"""The docs site of a deployment, without Airflow: built on deploy, refreshed, served only from its folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from headrace.orchestrator import sitebuild
from headrace.orchestrator.plugin.files import site_file
from headrace.orchestrator.settings import Home, Source
from headrace.orchestrator.update import update_project

from tests.orchestrator.support import copy_template

pytestmark = pytest.mark.unit

HOSTILE = [
    "",
    "/etc/passwd",
    "../deployed.json",
    "../../deployed.json",
    "x/../../index.html",
    "./index.html",
    "..",
    ".status.json",
    ".docs.lock",
    "sub/.hidden",
    "index.html\x00.png",
    "..\\..\\deployed.json",
    "index.html/",
    "a" * 300,
    "outside.txt",  # a symlink out of the folder
    "missing.html",
]


def test_only_regular_files_inside_the_site_folder_are_served(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html>")
    (site / ".status.json").write_text("{}")
    (tmp_path / "deployed.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("not for the web")
    (site / "outside.txt").symlink_to(tmp_path / "secret.txt")
    assert site_file(site, "index.html") == (site / "index.html").resolve()
    refused = {path: site_file(site, path) for path in HOSTILE}
    assert refused == dict.fromkeys(HOSTILE)


def _node_names(deployment: Path) -> set[str]:
    data = json.loads((sitebuild.site_dir(deployment) / "data.json").read_text())
    return {node["id"] for node in data["lineage"]["nodes"]}


def test_a_deployment_carries_its_site_and_a_new_version_gets_its_own(tmp_path: Path) -> None:
    """What project_update and `headrace airflow up` run: the site is there before the version is current."""
    project = copy_template(tmp_path / "project")
    home, source = Home(tmp_path / "home"), Source(None, "main", project)
    lines: list[str] = []
    first = update_project(home, source, None, log=lines.append, state_dir=tmp_path / "state")
    assert (sitebuild.site_dir(first.path) / "index.html").is_file()
    assert any(line.startswith(f"built the docs site of {first.version}") for line in lines)
    assert "out_sales.revenue_by_month" in _node_names(first.path)
    assert not any(name.startswith("out_ranking") for name in _node_names(first.path))

    folder = project / "transformations" / "ranking"
    folder.mkdir()
    (folder / "transformation.yaml").write_text("type: sql\ninputs: [in_shop.orders]\noutputs: [top]\n")
    (folder / "10_top.sql").write_text(
        "CREATE TABLE top AS SELECT customer_id, count(*) AS n FROM orders GROUP BY 1;\n"
    )
    second = update_project(home, source, None, log=lines.append, state_dir=tmp_path / "state")
    assert second.version != first.version
    assert "out_ranking.top" in _node_names(second.path)
    assert "out_ranking.top" not in _node_names(first.path), "the old version keeps its own site"

    (sitebuild.site_dir(second.path) / "index.html").unlink()
    again = update_project(home, source, None, log=lines.append, state_dir=tmp_path / "state")
    assert again.status == "unchanged" and (sitebuild.site_dir(second.path) / "index.html").is_file()


HOLD_WRITE_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_busy_warehouse_keeps_the_last_live_build_and_says_when_it_was_read(tmp_path: Path) -> None:
    """A task writing the DuckDB file holds its lock: the refresh does not wait and does not blank the page."""
    project = copy_template(tmp_path / "project")
    state = tmp_path / "state"
    home = Home(tmp_path / "home")
    deployment = update_project(home, Source(None, "main", project), None, log=lambda _: None, state_dir=state).path
    assert not sitebuild.status(deployment).live, "no warehouse file yet"
    state.mkdir(exist_ok=True)
    with duckdb.connect(str(state / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA in_shop; CREATE TABLE in_shop.orders AS SELECT 1 AS order_id UNION ALL SELECT 2")
    live = sitebuild.build(deployment, state)
    assert live.live and live.tried_note == ""
    data = json.loads((sitebuild.site_dir(deployment) / "data.json").read_text())
    assert {t["id"]: t.get("rows") for t in data["tables"]}["in_shop.orders"] == 2

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(state / "warehouse.duckdb")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        busy = sitebuild.build(deployment, state)
    finally:
        holder.communicate("")
    assert busy.live and busy.built_at == live.built_at, "the build that read the warehouse stays"
    assert busy.tried_at is not None and busy.tried_at > live.built_at
    assert "could not be read" in busy.tried_note or "lock" in busy.tried_note.lower()
    kept = json.loads((sitebuild.site_dir(deployment) / "data.json").read_text())
    assert kept["warehouse"]["live"] and {t["id"]: t.get("rows") for t in kept["tables"]}["in_shop.orders"] == 2
    after = sitebuild.build(deployment, state)
    assert after.live and after.tried_note == "" and after.built_at > live.built_at
