"""A user in the Airflow UI (headless Chromium): log in, see the project's DAGs, trigger one, watch it succeed.

Screenshots go to artifacts/ (git-ignored) so a reviewer can see what the user saw.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.browser import ARTIFACTS, chromium
from tests.orchestrator.support import RunningAirflow

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

RUN_TIMEOUT_S = 240


@pytest.fixture
def browser() -> Iterator[object]:
    with chromium() as session:
        yield session


def test_a_user_logs_in_triggers_a_component_dag_and_sees_it_succeed(
    airflow_instance: RunningAirflow, browser: object
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ui = browser
    wait = WebDriverWait(ui, 60)
    ui.get(airflow_instance.url + "/")
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys("admin")
    ui.find_element(By.NAME, "password").send_keys(airflow_instance.password)
    ui.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)

    ui.get(airflow_instance.url + "/dags?tags=headrace")
    wait.until(ec.presence_of_element_located((By.XPATH, "//a[normalize-space()='orchestration_daily']")))
    ui.save_screenshot(str(ARTIFACTS / "airflow-ui-dags.png"))

    ui.get(airflow_instance.url + "/dags/extractor_reference")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=trigger-dag-button]"))).click()
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=trigger-dag-submit]"))).click()
    wait.until(lambda d: "/runs/" in d.current_url)  # the UI opens the new run
    run_id = ui.current_url.split("/runs/", 1)[1]

    badge = (By.XPATH, "//*[@data-testid='state-badge'][normalize-space()='Success' or normalize-space()='Failed']")
    WebDriverWait(ui, RUN_TIMEOUT_S, poll_frequency=2).until(ec.presence_of_element_located(badge))
    ui.save_screenshot(str(ARTIFACTS / "airflow-ui-run.png"))
    assert ui.find_element(*badge).text.strip() == "Success"
    # the page's badge can turn green a moment before the run itself is marked done: ask the API until it is
    api, run_id = airflow_instance.api(), run_id.replace("%2B", "+").replace("%3A", ":")
    run = api.dag_run("extractor_reference", run_id)
    deadline = time.monotonic() + 60
    while run["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(1)
        run = api.dag_run("extractor_reference", run_id)
    assert run["state"] == "success" and run["triggering_user_name"] == "admin"
