"""A corpus of broken projects: each prints exactly the errors a user needs, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from headrace.errors import ProjectInvalid
from headrace.project.loader import load_project

from tests.helpers import headrace, write_files

pytestmark = pytest.mark.unit

CASES = yaml.safe_load((Path(__file__).parent / "broken_cases.yaml").read_text())

BASE = {
    "project.yaml": "name: demo\n",
    "extractors/crm.yaml": """
        type: file
        tables:
          - name: customers
            path: data/customers.csv
            columns: {id: integer, name: string}
        """,
    "transformations/sales/transformation.yaml": """
        type: sql
        inputs: [in_crm.customers]
        outputs: [orders]
        """,
    "transformations/sales/10_orders.sql": "CREATE TABLE orders AS SELECT * FROM customers;\n",
    "data/customers.csv": "id,name\n1,Ada\n",
    "datamarts.yaml": """
        datamarts:
          - id: sales
            tables: [out_sales.orders]
        """,
    "orchestrations.yaml": """
        orchestrations:
          - id: daily
            schedule: "0 6 * * *"
            tasks: [extractor:crm, transformation:sales, datamart:sales]
        """,
}


def _build(root: Path, overrides: dict[str, str | None]) -> Path:
    write_files(root, BASE)
    for rel, content in overrides.items():
        if content is None:
            (root / rel).unlink()
        else:
            write_files(root, {rel: content})
    return root


def test_base_project_is_valid(tmp_path: Path) -> None:
    assert load_project(_build(tmp_path, {})).config.name == "demo"


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_broken_project(tmp_path: Path, case: dict) -> None:
    root = _build(tmp_path, case["files"])
    with pytest.raises(ProjectInvalid) as info:
        load_project(root)
    assert [str(e) for e in info.value.errors] == case["expect"]


def test_cli_prints_every_error_without_traceback_and_exits_2(tmp_path: Path) -> None:
    root = _build(tmp_path, {"project.yaml": "name: demo\nwarehous: {}\n", "datamarts.yaml": "- x\n"})
    result = headrace("validate", str(root))
    assert result.returncode == 2
    assert "project.yaml:2: warehous: unknown key (did you mean 'warehouse'?" in result.stderr
    assert "datamarts.yaml:1: expected a mapping with a datamarts: list" in result.stderr
    assert "2 errors in the project" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
