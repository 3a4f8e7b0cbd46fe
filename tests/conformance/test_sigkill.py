"""A task killed with SIGKILL leaves every table as it was; the re-run loads exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.targets import Target
from tests.helpers import run_ok, write_files

pytestmark = pytest.mark.integration


def _project(root: Path, target: Target, rows: range, load: str) -> Path:
    data = "id,label\n" + "".join(f"{i},row {i}\n" for i in rows)
    return write_files(
        root,
        {
            "project.yaml": target.project_yaml(),
            "data/items.csv": data,
            "extractors/src.yaml": f"""
                type: file
                tables:
                  - name: items
                    path: data/items.csv
                    load: {load}
                    columns: {{id: integer, label: string}}
                """,
        },
    )


def _kill_at(project: Path, fault: str, run_id: str) -> None:
    """Start run-task with a failpoint, wait until it is reached, SIGKILL the process group."""
    run_ok("compile", str(project))
    proc = subprocess.Popen(
        [sys.executable, "-m", "headrace", "run-task", "extractor:src", "--project", str(project), "--run-id", run_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "HEADRACE_FAULTS": fault},
    )
    seen = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if line.startswith(f"FAULT {fault}"):
                os.killpg(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the task was not killed at {fault}:\n{''.join(seen)}"


@pytest.mark.parametrize("fault", ["load.before_commit", "extract.before_upload"])
def test_killed_full_load_keeps_previous_table(tmp_path: Path, target: Target, fault: str) -> None:
    project = _project(tmp_path / "p", target, range(1, 101), "full")
    run_ok("run", "extractor:src", "--project", str(project))
    _project(tmp_path / "p", target, range(1000, 1500), "full")
    _kill_at(project, fault, "killed")
    assert target.query("SELECT count(*), min(id), max(id) FROM in_src.items") == [(100, 1, 100)]
    storage = target.state_dir / "storage" / "raw" / "src" / "items"
    stored = sorted(p.name for p in storage.iterdir())
    # raw files are published whole or not at all: the killed run's folder exists only if it was uploaded
    assert len(stored) == (2 if fault == "load.before_commit" else 1), stored
    assert not [name for name in stored if name.endswith(".incoming")]
    run_ok("run", "extractor:src", "--project", str(project))
    assert target.query("SELECT count(*), min(id), max(id) FROM in_src.items") == [(500, 1000, 1499)]


def test_killed_append_then_rerun_adds_each_row_once(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target, range(1, 11), "append")
    run_ok("run", "extractor:src", "--project", str(project))
    _project(tmp_path / "p", target, range(11, 21), "append")
    _kill_at(project, "load.before_commit", "killed")
    assert target.query("SELECT count(*), count(DISTINCT id) FROM in_src.items") == [(10, 10)]
    run_ok("run", "extractor:src", "--project", str(project))
    assert target.query("SELECT count(*), count(DISTINCT id), max(id) FROM in_src.items") == [(20, 20, 20)]
