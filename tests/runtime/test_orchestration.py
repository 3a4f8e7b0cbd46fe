"""Orchestration semantics of `headrace run`: parallel groups, continue_on_error, timeouts."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.helpers import headrace, run_ok, write_files
from tests.httpserver import serve

pytestmark = pytest.mark.integration

CSV = b"id\n1\n2\n"


def _project(root: Path, base: str, orchestration: str, timeout: str = "10m") -> Path:
    extractors = {
        f"extractors/{name}.yaml": f"""
            type: file
            tables:
              - name: t
                url: {base}/{name}.csv
                columns: {{id: integer}}
            """
        for name in ("a", "b", "bad", "slow")
    }
    return write_files(
        root,
        {
            "project.yaml": f"name: o\ndefaults: {{timeout: {timeout}}}\n",
            "orchestrations.yaml": orchestration,
            **extractors,
        },
    )


def test_parallel_group_runs_its_tasks_at_the_same_time(tmp_path: Path, state_env: Path) -> None:
    # Each request waits for the other: run one after the other, they would both fail.
    barrier = threading.Barrier(2, timeout=60)

    def meet(_handler) -> tuple[int, bytes]:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return 503, b"the other task never came"
        return 200, CSV

    with serve({"/a.csv": meet, "/b.csv": meet}) as base:
        project = _project(
            tmp_path / "p",
            base,
            """
            orchestrations:
              - id: both
                tasks: [[extractor:a, extractor:b]]
            """,
        )
        result = run_ok("run", "orchestration:both", "--project", str(project))
    assert "in_a.t: 2 rows loaded" in result.stdout and "in_b.t: 2 rows loaded" in result.stdout


@pytest.mark.parametrize("continue_on_error", [False, True])
def test_continue_on_error(tmp_path: Path, state_env: Path, continue_on_error: bool) -> None:
    with serve({"/a.csv": lambda h: (200, CSV)}) as base:
        project = _project(
            tmp_path / "p",
            base,
            f"""
            orchestrations:
              - id: nightly
                continue_on_error: {str(continue_on_error).lower()}
                tasks: [extractor:bad, extractor:a]
            """,
        )
        result = headrace("run", "orchestration:nightly", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "bad.csv: HTTP 404" in out
    if continue_on_error:
        assert "in_a.t: 2 rows loaded" in out and "1 task(s) failed, 0 skipped" in out
    else:
        assert "in_a.t" not in out and "1 task(s) failed, 1 skipped" in out


def test_task_timeout_stops_the_task(tmp_path: Path, state_env: Path) -> None:
    release = threading.Event()

    def hang(_handler) -> tuple[int, bytes]:
        release.wait(120)
        return 200, CSV

    with serve({"/slow.csv": hang, "/a.csv": lambda h: (200, CSV)}) as base:
        project = _project(
            tmp_path / "p",
            base,
            """
            orchestrations:
              - id: o
                continue_on_error: true
                tasks: [extractor:slow, extractor:a]
            """,
            timeout="3s",
        )
        try:
            result = headrace("run", "orchestration:o", "--project", str(project), timeout=100)
        finally:
            release.set()
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "extractor:slow: stopped after the task timeout of 3 s" in out
    assert "in_a.t: 2 rows loaded" in out
