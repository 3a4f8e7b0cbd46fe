"""The docs site in headless Chromium, from file:// and over HTTP: the picture, selection, search.

Screenshots go to artifacts/docs-*.png (git-ignored) so a reviewer sees what the user saw.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headrace.docsite import build_site
from headrace.project.compile import compile_project

from tests.browser import ARTIFACTS, chromium
from tests.docsite.test_site import build_manifest_counts
from tests.emulators.server import http_ready, start

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def built(ran_example: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("docs-site")
    manifest = compile_project(ran_example, folder / "manifest.json")
    index = build_site(manifest, ran_example, folder / "site")
    return index, build_manifest_counts(manifest)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium("1400,1000") as session:
        yield session


def severe(ui: Any) -> list[str]:
    return [e["message"] for e in ui.get_log("browser") if e.get("level") == "SEVERE"]


def test_the_picture_selection_and_search_from_file(built: tuple[Path, dict[str, int]], browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    index, expected = built
    ui = browser
    ui.get(index.as_uri())
    nodes = ui.find_elements(By.CSS_SELECTOR, "svg#lineage [data-node]")
    edges = ui.find_elements(By.CSS_SELECTOR, "svg#lineage [data-edge]")
    assert (len(nodes), len(edges)) == (expected["nodes"], expected["edges"])
    drawn = ui.execute_script(
        "return [...document.querySelectorAll('svg#lineage [data-node] rect, svg#lineage [data-edge]')]"
        ".filter(e => { const b = e.getBBox(); return b.width > 0 && b.height >= 0; }).length"
    )
    assert drawn == len(nodes) + len(edges)
    assert ui.find_element(By.CSS_SELECTOR, '[data-edge="extractor:shop->in_shop.orders"]')
    assert ui.find_element(By.ID, "warehouse-note").is_displayed() is False  # live facts: no note
    ui.save_screenshot(str(ARTIFACTS / "docs-lineage.png"))
    ui.find_element(By.ID, "fit").click()  # the whole picture in the pane
    pane = ui.find_element(By.ID, "graph")
    assert ui.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", pane)
    ui.save_screenshot(str(ARTIFACTS / "docs-lineage-fit.png"))
    ui.find_element(By.ID, "fit").click()

    ui.find_element(By.CSS_SELECTOR, '[data-node="out_sales.orders_enriched"]').click()
    details = ui.find_element(By.ID, "details")
    assert details.find_element(By.TAG_NAME, "h2").text == "out_sales.orders_enriched"
    assert "1,595" in details.text  # the row count of the run
    ui.find_element(By.CSS_SELECTOR, '#details a[data-col="out_sales.orders_enriched.amount_eur"]').click()
    row = ui.find_element(By.CSS_SELECTOR, '#details tr[data-column="amount_eur"]')
    assert "col-hl" in row.get_attribute("class")
    assert "in_reference.currencies.eur_rate" in row.text
    lit = {e.get_attribute("data-node") for e in ui.find_elements(By.CSS_SELECTOR, "svg#lineage .node.hl")}
    assert {"in_reference.currencies", "in_shop.orders", "dm_sales.orders", "transformation:sales"} <= lit
    assert "in_web.sessions" not in lit  # not on amount_eur's path
    ui.save_screenshot(str(ARTIFACTS / "docs-column-lineage.png"))

    search = ui.find_element(By.ID, "search")
    search.send_keys("eur_rate")
    matched = {e.get_attribute("data-node") for e in ui.find_elements(By.CSS_SELECTOR, "svg#lineage .node.match")}
    assert matched == {"in_reference.currencies", "extractor:reference"}  # the column, and the config declaring it
    listed = [a.text.split("\n")[0] for a in ui.find_elements(By.CSS_SELECTOR, "#table-list a") if a.is_displayed()]
    assert listed == ["in_reference.currencies", "reference"]
    assert ui.find_element(By.ID, "match-count").text == "2 matches"
    ui.save_screenshot(str(ARTIFACTS / "docs-search.png"))
    search.send_keys(Keys.ENTER)
    assert ui.find_element(By.CSS_SELECTOR, "#details h2").text == "in_reference.currencies"
    search.clear()
    search.send_keys("sales")
    matched = {e.get_attribute("data-node") for e in ui.find_elements(By.CSS_SELECTOR, "svg#lineage .node.match")}
    assert {"transformation:sales", "datamart:sales", "dm_sales.orders", "out_sales.revenue_by_month"} <= matched

    ui.find_element(By.CSS_SELECTOR, '#table-list a[data-item="transformation:sales"]').click()
    assert "CREATE TABLE orders_enriched" in ui.find_element(By.ID, "details").text  # its SQL
    ui.save_screenshot(str(ARTIFACTS / "docs-component.png"))
    assert severe(ui) == []


def test_the_site_served_over_http(built: tuple[Path, dict[str, int]], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    index, expected = built
    server = start(
        "docs-http",
        lambda port: [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(index.parent)],
        lambda port: http_ready(f"http://127.0.0.1:{port}/"),
        tmp_path,
    )
    try:
        browser.get(f"{server.endpoint}/index.html#dm_sales.orders")
        assert browser.find_element(By.CSS_SELECTOR, "#details h2").text == "dm_sales.orders"
        assert len(browser.find_elements(By.CSS_SELECTOR, "svg#lineage [data-node]")) == expected["nodes"]
        assert severe(browser) == []
    finally:
        server.stop()
