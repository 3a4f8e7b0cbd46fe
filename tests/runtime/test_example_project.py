"""The example project runs end to end, as `./install.sh local` runs it, and is queryable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_ok

pytestmark = pytest.mark.integration


def test_example_project_end_to_end_and_rerun(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    run_ok("init", str(project))
    first = run_ok("run", "--project", str(project))
    assert "in_web.sessions: 6,000 rows loaded (full)" in first.stdout
    assert "rows/s" in first.stdout
    run_ok("run", "orchestration:daily", "--project", str(project))  # running again is safe

    def rows(sql: str) -> list[dict]:
        return json.loads(run_ok("query", "--project", str(project), "--format", "json", sql).stdout)

    assert rows("SELECT count(*) AS months, sum(orders) AS orders FROM dm_sales.revenue_by_month") == [
        {"months": 60, "orders": 1595}
    ]
    assert rows("SELECT count(*) AS n, count(DISTINCT _headrace_run_id) AS runs FROM in_shop.orders") == [
        {"n": 2000, "runs": 1}
    ]
    assert rows("SELECT count(*) AS n FROM headrace_meta.task_runs WHERE status = 'success'") == [{"n": 14}]
