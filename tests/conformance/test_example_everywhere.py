"""The example project produces the same datamart rows on every warehouse (issue 10's "done when").

The rows are compared with one golden copy (written from DuckDB), after a normalisation that
only removes what warehouses may legitimately differ in: row order, the Python type a driver
returns for a number (int, Decimal, float) and for a date. Numbers are compared at the
precision of the SQL (amounts have 2 decimals, a ratio 4).
"""

from __future__ import annotations

import datetime
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conformance.targets import Target
from tests.golden_files import assert_golden
from tests.helpers import TEMPLATE, run_ok

pytestmark = pytest.mark.integration

DATAMART_TABLES = ["dm_sales.revenue_by_month", "dm_sales.orders", "dm_marketing.conversion_by_country"]


def _value(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        number = Decimal(str(value)).quantize(Decimal("0.0001"))
        return int(number) if number == number.to_integral_value() else str(number.normalize())
    if isinstance(value, datetime.datetime):
        return (value.astimezone(datetime.UTC).replace(tzinfo=None) if value.tzinfo else value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def datamart_rows(target: Target) -> dict[str, Any]:
    """Every datamart table's columns (lower case) and sorted, normalised rows."""
    out: dict[str, Any] = {}
    with target.open() as wh:
        for name in DATAMART_TABLES:
            schema, table = name.split(".")
            columns, rows = wh.query(f"SELECT * FROM {wh.qualified(schema, table)}")
            normal = sorted((tuple(_value(v) for v in row) for row in rows), key=lambda r: json.dumps(r, default=str))
            out[name] = {"columns": [c.lower() for c in columns], "rows": [list(r) for r in normal]}
    return out


def test_example_project_gives_the_same_datamarts(target: Target, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns(".headrace", "__init__.py", "__pycache__"))
    config = yaml.safe_load((project / "project.yaml").read_text())
    config["warehouse"] = dict(target.config)
    if target.name == "bigquery":  # datamart readers are IAM members there (docs/bigquery.md)
        config["warehouse"]["default_reader"] = "group:finance-bi@example.com"
    (project / "project.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    run_ok("run", "--project", str(project), timeout=900)
    assert_golden("example_datamarts.jsonl", as_lines(datamart_rows(target)))


def as_lines(tables: dict[str, Any]) -> str:
    """One line per table header and per row: a reviewable diff when a warehouse differs."""
    lines = []
    for name in sorted(tables):
        lines.append(json.dumps({"table": name, "columns": tables[name]["columns"]}))
        lines += [json.dumps(row) for row in tables[name]["rows"]]
    return "\n".join(lines) + "\n"
