"""The ordering function shared by `headrace run` and the Airflow DAGs."""

from __future__ import annotations

import pytest
from headrace.errors import ConfigError
from headrace.plan import plan_for
from headrace.project.compile import build_manifest
from headrace.project.loader import load_project

from tests.helpers import TEMPLATE

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def manifest() -> dict:
    return build_manifest(load_project(TEMPLATE))


def test_whole_project_runs_in_dependency_layers(manifest: dict) -> None:
    plan = plan_for(manifest, [])
    assert plan.stages == [
        ["extractor:reference", "extractor:shop", "extractor:web"],
        ["transformation:sales"],
        ["datamart:sales", "transformation:marketing"],
        ["datamart:marketing"],
    ]


def test_orchestration_keeps_its_steps_and_edges(manifest: dict) -> None:
    plan = plan_for(manifest, ["orchestration:daily"])
    assert plan.stages[0] == ["extractor:shop", "extractor:web", "extractor:reference"]
    assert ("extractor:web", "transformation:sales") in plan.edges()
    assert ("transformation:marketing", "datamart:sales") in plan.edges()
    assert len(plan.edges()) == 3 + 1 + 2


def test_components_are_ordered_without_pulling_in_upstream(manifest: dict) -> None:
    plan = plan_for(manifest, ["transformation:marketing", "transformation:sales"])
    assert plan.stages == [["transformation:sales"], ["transformation:marketing"]]


def test_bare_ambiguous_and_unknown_targets(manifest: dict) -> None:
    assert plan_for(manifest, ["daily"]).name == "orchestration:daily"
    with pytest.raises(ConfigError, match="ambiguous: write one of datamart:sales, transformation:sales"):
        plan_for(manifest, ["sales"])
    with pytest.raises(ConfigError, match="nothing named 'nope'"):
        plan_for(manifest, ["nope"])
