"""Generated artefacts stay as committed: the manifest of the example and the JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from headrace.project.compile import build_manifest
from headrace.project.jsonschema import schemas
from headrace.project.loader import load_project
from headrace.project.manifest import manifest_json

from tests.golden_files import assert_golden
from tests.helpers import TEMPLATE, headrace, run_ok

pytestmark = pytest.mark.unit


def test_example_manifest_matches_golden_file() -> None:
    manifest = build_manifest(load_project(TEMPLATE), commit=None)
    assert_golden("manifest_project_template.json", manifest_json(manifest))


def test_manifest_is_deterministic_and_has_no_secret_values(tmp_path: Path) -> None:
    first = run_ok("compile", str(TEMPLATE), "-o", str(tmp_path / "a.json"))
    run_ok("compile", str(TEMPLATE), "-o", str(tmp_path / "b.json"))
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert "manifest version 5: 7 tasks, 1 orchestrations" in first.stdout


def test_template_schemas_are_current() -> None:
    """The template's editors point at schemas/*.json: they must match the models."""
    for name, schema in schemas().items():
        committed = json.loads((TEMPLATE / "schemas" / f"{name}.json").read_text())
        assert committed == schema, f"project_template/schemas/{name}.json is stale: run `headrace schema -o ...`"


def test_schema_rejects_unknown_keys_in_editors() -> None:
    project = schemas()["project"]
    assert project["additionalProperties"] is False
    assert set(project["properties"]) >= {"name", "warehouse", "storage", "defaults"}


def test_init_creates_a_valid_project(tmp_path: Path) -> None:
    target = tmp_path / "new"
    run_ok("init", str(target))
    assert (target / "project.yaml").is_file()
    assert not (target / "__init__.py").exists()
    assert run_ok("validate", str(target)).stdout.startswith("ok coffee_shop")
    again = headrace("init", str(target))
    assert again.returncode != 0 and "not empty" in again.stderr


def test_schema_lets_editors_accept_references_for_deployment_values() -> None:
    import jsonschema

    project = schemas()["project"]
    good = {"name": "p", "warehouse": {"type": "postgres", "host": "h", "database": "d", "user": "u"}}
    jsonschema.validate({**good, "warehouse": {**good["warehouse"], "port": "${env:PG_PORT}"}}, project)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "warehouse": {**good["warehouse"], "port": "PG_PORT"}}, project)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "warehouse": {**good["warehouse"], "hots": "h"}}, project)
