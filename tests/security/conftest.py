"""Fixtures of the hostile-input tests: the conformance ``target`` (the warehouses that enforce access), one
warehouse at a time for attacks that exist on only one of them, and a project in a git remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.targets import TARGETS, Target
from tests.orchestrator.support import project_remote

__all__ = ["project_remote"]

# The hostile cases run where the warehouse enforces what they attack (logins and grants, or
# DuckDB's locked configuration). The emulators enforce no access control: BigQuery's IAM
# confinement is asserted at its HTTP boundary (tests/bigquery), Snowflake's grants at the
# statement boundary (tests/snowflake); docs/cloud-verification.md lists what a real account shows.
SECURITY_TARGETS = ("duckdb", "postgres")


@pytest.fixture(params=SECURITY_TARGETS)
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    return _made(request.param, request, tmp_path, monkeypatch)


def _made(name: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    made = TARGETS[name](request, tmp_path)
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(made.state_dir))
    for key, value in made.env.items():
        monkeypatch.setenv(key, value)
    return made


@pytest.fixture
def postgres(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    return _made("postgres", request, tmp_path, monkeypatch)


@pytest.fixture
def duckdb(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    return _made("duckdb", request, tmp_path, monkeypatch)
