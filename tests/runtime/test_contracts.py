"""The runtime contracts as a user meets them: plugins, the versioned manifest, values typed after resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from headrace.project.manifest import MANIFEST_VERSION, read_manifest

from tests.helpers import TEMPLATE, headrace, run_ok, write_files

pytestmark = pytest.mark.integration

BUILT_IN = {
    ("warehouse", "duckdb"),
    ("warehouse", "postgres"),
    ("storage", "local"),
    ("worker", "local"),
    ("extractor", "file"),
    ("extractor", "postgres"),
    ("transformation", "sql"),
}


def test_plugins_lists_the_built_in_backends_with_versions() -> None:
    listed = json.loads(run_ok("plugins", "--format", "json").stdout)
    assert {(p["kind"], p["type"]) for p in listed} >= BUILT_IN
    from headrace import __version__

    for plugin in listed:
        if (plugin["kind"], plugin["type"]) in BUILT_IN:
            assert (plugin["distribution"], plugin["version"]) == ("headrace", __version__)
    table = run_ok("plugins").stdout
    assert "warehouse" in table and "postgres" in table and "PostgreSQL" in table


def test_compile_writes_a_versioned_manifest_that_its_model_reads(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    run_ok("compile", str(TEMPLATE), "-o", str(target))
    manifest = read_manifest(target)
    assert manifest.manifest_version == MANIFEST_VERSION
    extractor = manifest.tasks["extractor:shop"]
    assert extractor.kind == "extractor" and extractor.target_schema == "in_shop"
    transformation = manifest.tasks["transformation:sales"]
    assert transformation.kind == "transformation" and transformation.work_schema_prefix == "tr_sales"
    assert {i.alias for i in transformation.inputs} >= {"orders", "rates"}  # `as: rates` in the project


def test_a_manifest_of_another_version_is_refused_with_what_to_do(tmp_path: Path, state_env: Path) -> None:
    project = tmp_path / "p"
    run_ok("init", str(project))
    run_ok("compile", str(project))
    path = project / ".headrace" / "manifest.json"
    data = json.loads(path.read_text())
    data["manifest_version"] = 1
    path.write_text(json.dumps(data))
    result = headrace("run-task", "extractor:shop", "--project", str(project), "--run-id", "r1")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"manifest version 1 is not the version {MANIFEST_VERSION}" in result.stderr
    assert "headrace compile" in result.stderr
    assert '"error_class":"config"' in result.stdout


def _typed_project(root: Path) -> Path:
    return write_files(
        root,
        {
            "project.yaml": """
                name: typed
                warehouse: {type: duckdb, threads: "${env:HR_THREADS}", memory_limit: "${secret:duck_memory}"}
                """,
            "extractors/src.yaml": """
                type: file
                tables:
                  - name: t
                    path: t.csv
                    columns: {id: integer}
                """,
            "t.csv": "id\n1\n2\n",
        },
    )


def test_deployment_values_may_be_references_and_are_typed_when_resolved(tmp_path: Path, state_env: Path) -> None:
    project = _typed_project(tmp_path / "p")
    assert run_ok("validate", str(project)).stdout.startswith("ok typed")
    manifest = run_ok("compile", str(project))
    assert "manifest version" in manifest.stdout
    stored = json.loads((project / ".headrace" / "manifest.json").read_text())["project"]["warehouse"]
    assert stored["threads"] == "${env:HR_THREADS}"  # the manifest keeps the reference

    good = headrace("run", "--project", str(project), env={"HR_THREADS": "2", "HEADRACE_SECRET_DUCK_MEMORY": "256MB"})
    assert good.returncode == 0, good.stdout + good.stderr
    assert "in_src.t: 2 rows loaded" in good.stdout

    bad = headrace("run", "--project", str(project), env={"HR_THREADS": "many", "HEADRACE_SECRET_DUCK_MEMORY": "256MB"})
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0
    assert "project.yaml: warehouse.threads: ${env:HR_THREADS} resolved to a value that is not valid" in out
    assert "integer" in out


def test_a_secret_that_fails_its_type_is_named_not_shown(tmp_path: Path, state_env: Path) -> None:
    secret = "not-a-size-Zq81"
    project = write_files(
        tmp_path / "p",
        {
            "project.yaml": 'name: typed\nwarehouse: {type: duckdb, threads: "${secret:duck_threads}"}\n',
            "extractors/src.yaml": "type: file\ntables: [{name: t, path: t.csv, columns: {id: integer}}]\n",
            "t.csv": "id\n1\n",
        },
    )
    result = headrace("run-task", "extractor:src", "--project", str(project), "--run-id", "r1")
    assert result.returncode == 2  # no manifest yet: a configuration error too
    run_ok("compile", str(project))
    result = headrace(
        "run-task", "extractor:src", "--project", str(project), "--run-id", "r1",
        env={"HEADRACE_SECRET_DUCK_THREADS": secret},
    )  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "warehouse.threads: ${secret:duck_threads} resolved to a value that is not valid" in out
    assert secret not in out


def test_postgres_port_from_the_environment_validates(tmp_path: Path) -> None:
    """`warehouse.port: ${env:PG_PORT}` is a deployment value like `connection.port` (was refused)."""
    project = write_files(
        tmp_path / "p",
        {
            "project.yaml": """
                name: pg
                warehouse: {type: postgres, host: db, port: "${env:PG_PORT}", database: dw, user: hr}
                """,
            "extractors/crm.yaml": """
                type: postgres
                connection: {host: src, port: "${env:CRM_PORT}", database: crm, user: r, sslmode: "${env:CRM_SSL}"}
                tables: [{name: t, source: public.t}]
                """,
        },
    )
    assert run_ok("validate", str(project)).stdout.startswith("ok pg")
    (project / "project.yaml").write_text(
        "name: pg\nwarehouse: {type: postgres, host: db, port: seven, database: d, user: u}\n"
    )
    refused = headrace("validate", str(project))
    assert refused.returncode == 2
    assert "project.yaml:2: warehouse.port: input should be a valid integer" in refused.stderr
