"""What runs is the manifest's SQL, transpiled once at compile time: the files are not read again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import headrace, run_ok, write_files

pytestmark = pytest.mark.integration


def _project(root: Path) -> Path:
    return write_files(
        root,
        {
            "project.yaml": "name: dialects\n",  # DuckDB
            "transformations/calc/transformation.yaml": "type: sql\ndialect: snowflake\noutputs: [result]\n",
            # Snowflake's SQL: IFF and DIV0 have no DuckDB function of the same name
            "transformations/calc/10_result.sql": (
                "-- Snowflake's SQL\nCREATE TABLE Result AS\n"
                "SELECT IFF(1 > 0, 'yes', 'no') AS Answer, DIV0(1, 0) AS Ratio;\n"
            ),
        },
    )


def test_the_runner_executes_the_transpiled_sql_of_the_manifest(tmp_path: Path, state_env: Path) -> None:
    project = _project(tmp_path / "p")
    run_ok("compile", str(project))
    manifest = json.loads((project / ".headrace" / "manifest.json").read_text())
    task = manifest["tasks"]["transformation:calc"]
    assert task["dialect"] == "duckdb" and task["config"]["dialect"] == "snowflake"
    [statement] = task["sql"][0]["statements"]
    assert statement["line"] == 2 and '"result"' in statement["sql"] and "IFF(" not in statement["sql"]
    (project / "transformations/calc/10_result.sql").write_text("this is not SQL;\n")  # changed after compiling
    run_ok("run-task", "transformation:calc", "--project", str(project), "--run-id", "r1")
    rows = json.loads(
        run_ok("query", "--project", str(project), "--format", "json", "SELECT * FROM out_calc.result").stdout
    )
    assert rows == [{"answer": "yes", "ratio": 0}]


def test_a_manifest_compiled_for_another_dialect_is_refused(tmp_path: Path, state_env: Path) -> None:
    project = _project(tmp_path / "p")
    run_ok("compile", str(project))
    path = project / ".headrace" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["tasks"]["transformation:calc"]["dialect"] = "snowflake"
    path.write_text(json.dumps(manifest))
    result = headrace("run-task", "transformation:calc", "--project", str(project), "--run-id", "r1")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the manifest holds SQL in snowflake's dialect and the warehouse speaks duckdb's" in result.stderr
    assert "headrace compile" in result.stderr
