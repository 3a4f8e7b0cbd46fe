"""The code stays ruff-clean and the toolkit keeps its import rules (DESIGN §2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.unit


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", str(REPO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_toolkit_loads_no_driver_or_airflow() -> None:
    code = (
        "import sys, headrace.cli, headrace.runner, headrace.project.loader, headrace.warehouses.duckdb;"
        "bad = [m for m in ('airflow', 'psycopg', 'boto3', 'google.cloud', 'snowflake', 'duckdb') if m in sys.modules];"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
