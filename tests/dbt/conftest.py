"""Fixtures of the dbt tests: dbt's own virtual environments (made once, by tests/setup.d/70-dbt.sh
or on first use) and a coffee-shop project with the dbt example added."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, TEMPLATE

EXAMPLE = REPO / "project_template" / "examples" / "dbt" / "transformations" / "shop_dbt"


@pytest.fixture(scope="session")
def dbt_python():  # type: ignore[no-untyped-def]
    """adapter -> dbt's Python in its own environment."""
    from headrace.transformations.dbt import venv

    return {adapter: venv.ensure(adapter) for adapter in ("dbt-duckdb", "dbt-postgres")}


def shop_project(root: Path) -> Path:
    """The example project (coffee shop) with the dbt example as transformation ``shop_dbt``."""
    shutil.copytree(
        TEMPLATE, root, ignore=shutil.ignore_patterns(".headrace", "__init__.py", "__pycache__", "examples")
    )
    shutil.copytree(EXAMPLE, root / "transformations" / "shop_dbt")
    return root
