"""Headless Chromium for the browser tests (the Airflow UI, the docs site).

``chromium()`` is a context manager yielding a selenium ``webdriver.Chrome``; the ``browser``
fixture of a test module wraps it. Chromium, chromedriver and selenium are installed by
tests/setup.d/40-airflow.sh. Screenshots go to ``ARTIFACTS`` (git-ignored).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.helpers import REPO

ARTIFACTS = REPO / "artifacts"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


@contextmanager
def chromium(window: str = "1400,1000") -> Iterator[Any]:
    """A headless Chromium session with its own throwaway profile, quit on exit."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="tests/setup.d/40-airflow.sh installs selenium")
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("Chromium and chromedriver are needed: tests/setup.d/40-airflow.sh installs them")
    profile = tempfile.mkdtemp(prefix="headrace-chromium-")
    options = webdriver.ChromeOptions()
    flags = [f for f in CHROMIUM_FLAGS if not f.startswith("--window-size=")]
    for flag in (*flags, f"--window-size={window}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = binary
    session = webdriver.Chrome(service=Service(driver), options=options)
    session.implicitly_wait(2)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield session
    finally:
        session.quit()
        shutil.rmtree(profile, ignore_errors=True)
