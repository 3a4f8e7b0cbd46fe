"""Order inside an orchestration's parallel group comes from the data (`headrace run` of an orchestration).

The group lists its tasks in the wrong order on purpose: the run succeeds only if each task waits
for those of its group that produce its inputs, and the tasks that do not depend on each other
still run at the same time (the two extractors meet at a barrier: one after the other, both fail).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.helpers import headrace, run_ok, write_files
from tests.httpserver import serve

pytestmark = pytest.mark.integration

CSV = b"id\n1\n2\n"


def _project(root: Path, base: str, group: str) -> Path:
    extractors = {
        f"extractors/{name}.yaml": f"""
            type: file
            tables:
              - name: t
                url: {base}/{name}.csv
                columns: {{id: integer}}
            """
        for name in ("a", "b", "bad")
    }
    return write_files(
        root,
        {
            "project.yaml": "name: o\n",
            **extractors,
            "transformations/both/transformation.yaml": """
                type: sql
                inputs: [{table: in_a.t, as: a}, {table: in_b.t, as: b}]
                outputs: [ids]
                """,
            "transformations/both/10_ids.sql": "CREATE TABLE ids AS SELECT id FROM a UNION ALL SELECT id FROM b;\n",
            "transformations/total/transformation.yaml": """
                type: sql
                inputs: [{table: out_both.ids, as: ids}]
                outputs: [total]
                """,
            "transformations/total/10_total.sql": "CREATE TABLE total AS SELECT count(*) AS n FROM ids;\n",
            "transformations/from_bad/transformation.yaml": """
                type: sql
                inputs: [{table: in_bad.t, as: t}]
                outputs: [copy]
                """,
            "transformations/from_bad/10_copy.sql": "CREATE TABLE copy AS SELECT * FROM t;\n",
            "datamarts.yaml": "datamarts:\n  - {id: report, tables: [out_total.total]}\n",
            "orchestrations.yaml": f"orchestrations:\n  - id: all\n    tasks: [{group}]\n",
        },
    )


def _runs(project: Path) -> dict[str, tuple[str, float, float]]:
    """task -> (status, started_at, ended_at) of its newest run, from headrace_meta.task_runs."""
    sql = "SELECT task_id, status, started_at, ended_at FROM headrace_meta.task_runs ORDER BY started_at"
    rows = json.loads(run_ok("query", sql, "--project", str(project), "--format", "json").stdout)
    return {r["task_id"]: (r["status"], r["started_at"], r["ended_at"]) for r in rows}


def test_one_group_runs_in_the_order_of_the_data(tmp_path: Path, state_env: Path) -> None:
    barrier = threading.Barrier(2, timeout=60)

    def meet(_handler) -> tuple[int, bytes]:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return 503, b"the other extractor never came"
        return 200, CSV

    group = "[datamart:report, transformation:total, transformation:both, extractor:b, extractor:a]"
    with serve({"/a.csv": meet, "/b.csv": meet}) as base:
        project = _project(tmp_path / "p", base, group)
        (project / "transformations/from_bad").rename(project / "unused")  # not in this case
        result = run_ok("run", "orchestration:all", "--project", str(project))
    assert "in_a.t: 2 rows loaded" in result.stdout and "in_b.t: 2 rows loaded" in result.stdout
    manifest = json.loads((project / ".headrace/manifest.json").read_text())
    assert manifest["orchestrations"]["all"]["after"] == {
        "datamart:report": ["transformation:total"],
        "transformation:both": ["extractor:a", "extractor:b"],
        "transformation:total": ["transformation:both"],
    }
    runs = _runs(project)
    assert {t: r[0] for t, r in runs.items()} == dict.fromkeys(
        ["extractor:a", "extractor:b", "transformation:both", "transformation:total", "datamart:report"], "success"
    )
    for before, after in [
        ("extractor:a", "transformation:both"),
        ("extractor:b", "transformation:both"),
        ("transformation:both", "transformation:total"),
        ("transformation:total", "datamart:report"),
    ]:
        assert runs[after][1] >= runs[before][2], f"{after} started before {before} ended"
    rows = json.loads(
        run_ok("query", "SELECT n FROM dm_report.total", "--project", str(project), "--format", "json").stdout
    )
    assert rows == [{"n": 4}]


def test_a_failed_producer_skips_its_readers_in_the_group_only(tmp_path: Path, state_env: Path) -> None:
    """``extractor:bad`` fails (404): what reads it is skipped with the reason; the rest of the group runs."""
    with serve({"/a.csv": lambda h: (200, CSV), "/b.csv": lambda h: (200, CSV)}) as base:
        group = "[transformation:from_bad, extractor:bad, extractor:a, extractor:b, transformation:both]"
        project = _project(tmp_path / "p", base, group)
        (project / "datamarts.yaml").unlink()
        result = headrace("run", "orchestration:all", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "bad.csv: HTTP 404" in out
    assert "transformation:from_bad: extractor:bad did not succeed, and it produces this task's input" in out
    runs = _runs(project)
    assert runs["extractor:bad"][0] == "failed"
    assert runs["transformation:both"][0] == "success"
    assert "transformation:from_bad" not in runs  # never started
