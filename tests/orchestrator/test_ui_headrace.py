"""The Headrace page inside the Airflow UI (the ``airflow.plugins`` entry point, orchestrator/plugin/).

One real Airflow (the session's ``airflow_instance``): the page is refused without Airflow's
login; a user logs in (headless Chromium), clicks "Headrace" in the navigation and sees the
lineage of the deployed version with the warehouse's row counts; a push deployed by
``project_update`` changes the page. Screenshots: artifacts/airflow-headrace-*.png.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from headrace.lineage import build_lineage
from headrace.project.manifest import read_manifest

from tests.browser import ARTIFACTS, chromium
from tests.orchestrator.support import AIRFLOW_SECRET, RunningAirflow

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

RUN_TIMEOUT_S = 300
HOSTILE = ["..%2f..%2fdeployed.json", "%2e%2e/%2e%2e/deployed.json", ".status.json", "../../deployed.json", "nope.js"]
NEW_TABLE = "out_customer_ranking.top"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request as it is answered (redirects are not followed)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def expected_graph(airflow: RunningAirflow) -> tuple[set[str], int]:
    """The lineage nodes and number of edges of the version that runs, from its manifest."""
    graph = build_lineage(read_manifest(airflow.home / "current" / ".headrace" / "manifest.json"))
    return set(graph.nodes), len(graph.edges)


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as session:
        yield session


def _run(airflow: RunningAirflow, dag_id: str) -> str:
    api = airflow.api()
    return api.wait_for_run(dag_id, api.trigger(dag_id), RUN_TIMEOUT_S)


def _add_ranking(work: Path) -> None:
    folder = work / "transformations" / "customer_ranking"
    folder.mkdir()
    (folder / "transformation.yaml").write_text(
        "type: sql\ndescription: Customers by number of orders.\ninputs: [in_shop.orders]\noutputs: [top]\n"
    )
    (folder / "10_top.sql").write_text(
        "CREATE TABLE top AS SELECT customer_id, count(*) AS orders FROM orders GROUP BY customer_id;\n"
    )


def test_the_headrace_page_is_in_the_airflow_ui_behind_its_login(
    airflow_instance: RunningAirflow, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base = airflow_instance.url
    # not signed in: refused, and a browser is sent to Airflow's login page
    for path in ("/headrace/", "/headrace/index.html", "/headrace/data.json", "/headrace/data.js"):
        assert fetch(base + path)[0] == 401, path
    status, headers, _ = fetch(base + "/headrace/", {"Accept": "text/html"})
    assert status == 303 and headers["location"] == "/auth/login?next=%2Fheadrace%2F"
    assert fetch(base + "/headrace/", {"Cookie": "_token=forged"})[0] == 403
    # signed in (the UI's cookie or a bearer token): served; nothing outside the site folder is
    cookie = {"Cookie": f"_token={airflow_instance.api().token()}"}
    status, headers, page = fetch(base + "/headrace/", cookie)
    assert status == 200 and b'id="graph"' in page and headers["content-security-policy"] == "frame-ancestors 'self'"
    for path in HOSTILE:
        assert fetch(base + "/headrace/" + path, cookie)[0] == 404, path
    assert _run(airflow_instance, "extractor_reference") == "success"  # live row counts to show
    data = fetch(base + "/headrace/data.json", cookie)[2]
    assert AIRFLOW_SECRET.encode() not in data and AIRFLOW_SECRET.encode() not in page
    rows = {t["id"]: t.get("rows") for t in json.loads(data)["tables"]}
    assert rows["in_reference.countries"] == 6, "the API server read the warehouse the task wrote"

    # a user logs in, clicks "Headrace" in Airflow's navigation and sees the lineage
    ui, wait = browser, WebDriverWait(browser, 60)
    ui.get(base + "/headrace/")  # a bookmark of the page itself: Airflow's login first, then back
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys("admin")
    ui.find_element(By.NAME, "password").send_keys(airflow_instance.password)
    ui.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)
    assert ui.current_url == base + "/headrace/"
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg g.node[data-node]")))
    ui.get(base + "/")
    entry = wait.until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "a[aria-label=Headrace][href$='/plugin/headrace']"))
    )
    assert entry.text.strip() == "Headrace"
    entry.click()
    wait.until(lambda d: "/plugin/headrace" in d.current_url)

    def drawn() -> tuple[set[str], int]:
        ui.switch_to.default_content()
        ui.switch_to.frame(wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[title=Headrace]"))))
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg g.node[data-node]")))
        nodes = {el.get_attribute("data-node") for el in ui.find_elements(By.CSS_SELECTOR, "svg g.node[data-node]")}
        return nodes, len(ui.find_elements(By.CSS_SELECTOR, "svg path.edge"))

    nodes, edges = drawn()
    expected_nodes, expected_edges = expected_graph(airflow_instance)
    assert (nodes, edges) == (expected_nodes, expected_edges)
    assert {"in_reference.countries", "transformation:sales", "dm_sales.revenue_by_month"} <= nodes
    countries = ui.find_element(By.CSS_SELECTOR, "#table-list a[data-item='in_reference.countries']")
    assert countries.find_element(By.CSS_SELECTOR, ".rows").text == "6 rows"
    assert "row counts and freshness read at" in ui.find_element(By.ID, "headrace-airflow-status").text
    ui.switch_to.default_content()
    ui.save_screenshot(str(ARTIFACTS / "airflow-headrace-lineage.png"))
    ui.switch_to.frame(ui.find_element(By.CSS_SELECTOR, "iframe[title=Headrace]"))
    ui.find_element(By.CSS_SELECTOR, "svg g.node[data-node='out_sales.revenue_by_month']").click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "#details h2"), "out_sales.revenue_by_month"))
    ui.switch_to.default_content()
    ui.save_screenshot(str(ARTIFACTS / "airflow-headrace-table.png"))

    # a push deployed by project_update changes the page; the page is also reachable by its URL
    airflow_instance.remote.push("a customer ranking", _add_ranking)
    assert _run(airflow_instance, "project_update") == "success"
    ui.get(base + "/plugin/headrace")
    nodes, edges = drawn()
    expected_nodes, expected_edges = expected_graph(airflow_instance)
    assert NEW_TABLE in expected_nodes and (nodes, edges) == (expected_nodes, expected_edges)
    ui.switch_to.default_content()
    ui.save_screenshot(str(ARTIFACTS / "airflow-headrace-updated.png"))
