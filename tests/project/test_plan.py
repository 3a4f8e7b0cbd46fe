"""The ordering function shared by `headrace run` and the Airflow DAGs."""

from __future__ import annotations

import pytest
from headrace.errors import ConfigError
from headrace.plan import plan_for
from headrace.project.compile import build_manifest
from headrace.project.loader import load_project
from headrace.project.manifest import Manifest

from tests.helpers import TEMPLATE

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return build_manifest(load_project(TEMPLATE))


def test_whole_project_runs_in_dependency_layers(manifest: Manifest) -> None:
    plan = plan_for(manifest, [])
    assert plan.stages == [
        ["extractor:reference", "extractor:shop", "extractor:web"],
        ["transformation:sales"],
        ["datamart:sales", "transformation:marketing"],
        ["datamart:marketing"],
    ]


def test_orchestration_keeps_its_steps_and_edges(manifest: Manifest) -> None:
    plan = plan_for(manifest, ["orchestration:daily"])
    assert plan.stages[0] == ["extractor:shop", "extractor:web", "extractor:reference"]
    assert plan.stages[1] == ["transformation:sales", "transformation:marketing"]
    assert ("extractor:web", "transformation:sales") in plan.edges()
    assert ("transformation:marketing", "datamart:sales") in plan.edges()
    # inside the group, marketing reads sales' output: it runs after it
    assert plan.after == {"transformation:marketing": ["transformation:sales"]}
    assert ("transformation:sales", "transformation:marketing") in plan.edges()
    assert len(plan.edges()) == 3 * 2 + 2 * 2 + 1


def test_components_are_ordered_without_pulling_in_upstream(manifest: Manifest) -> None:
    plan = plan_for(manifest, ["transformation:marketing", "transformation:sales"])
    assert plan.stages == [["transformation:sales"], ["transformation:marketing"]]


def test_bare_ambiguous_and_unknown_targets(manifest: Manifest) -> None:
    assert plan_for(manifest, ["daily"]).name == "orchestration:daily"
    with pytest.raises(ConfigError, match="ambiguous: write one of datamart:sales, transformation:sales"):
        plan_for(manifest, ["sales"])
    with pytest.raises(ConfigError, match="nothing named 'nope'"):
        plan_for(manifest, ["nope"])
