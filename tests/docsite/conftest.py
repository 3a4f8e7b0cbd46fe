"""The example project after a real ``headrace run`` on DuckDB, shared by the docs site's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import TEMPLATE, run_ok


@pytest.fixture(scope="session")
def ran_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of project_template/ whose every task ran once (DuckDB warehouse, local storage)."""
    project = tmp_path_factory.mktemp("docs") / "coffee_shop"
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns("__pycache__", "__init__.py", ".headrace"))
    run_ok("run", "--project", str(project))
    return project
