"""Nothing left behind, and the run history tells the truth (issue 9, item 6), on both warehouses.

Each case stops a real ``headrace`` process the way a user, a timeout or Airflow would,
then asserts what the user sees (exit status, history row) and that nothing stayed: no
working schema, no working role, no staging table, no temporary folder, no task process.

The cases that stop a transformation share one warehouse per target whose input table was
extracted once (``loaded``); each runs its own project folder under its own run id, and
asserts on the whole warehouse that nothing stayed, so a case that leaks fails there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conformance.targets import TARGETS, Target
from tests.helpers import headrace, run_ok, write_files

pytestmark = pytest.mark.integration

LONG_SQL = {  # a statement that runs far longer than the tests wait
    "postgres": "CREATE TABLE slow AS SELECT 1 AS x FROM pg_sleep(120);\n",
    "duckdb": "CREATE TABLE slow AS SELECT count(*) AS x FROM range(100000000) a, range(100000000) b;\n",
}


def _project(
    root: Path,
    target: Target,
    sql: str = "CREATE TABLE result AS SELECT count(*) AS n FROM items;\n",
    timeout: int | None = None,
    rows: int = 20,
) -> Path:
    data = "id,label\n" + "".join(f"{i},row {i}\n" for i in range(rows))
    tr_timeout = f"timeout: {timeout}\n" if timeout else ""
    return write_files(
        root,
        {
            "project.yaml": target.project_yaml(),
            "data/items.csv": data,
            "extractors/src.yaml": """
                type: file
                tables:
                  - name: items
                    path: data/items.csv
                    load: full
                    columns: {id: integer, label: string}
                """,
            "transformations/calc/transformation.yaml": "type: sql\ninputs: [in_src.items]\noutputs: [result]\n"
            + tr_timeout,
            "transformations/calc/10_calc.sql": sql,
        },
    )


def _history(target: Target, task_id: str, run_id: str | None = None) -> list[tuple[str, str]]:
    of_run = f" AND run_id = '{run_id}'" if run_id else ""
    return [
        (r[0], r[1] or "")
        for r in target.query(
            f"SELECT status, error FROM headrace_meta.task_runs WHERE task_id = '{task_id}'{of_run} ORDER BY started_at"
        )
    ]


# the warehouses of tests/security (tests/security/conftest.py); each gets one shared, loaded warehouse here
LOADED_TARGETS = ("duckdb", "postgres")


@pytest.fixture(scope="module", params=LOADED_TARGETS)
def loaded_warehouse(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Target:
    """A warehouse of the target with ``in_src.items`` (20 rows) extracted once for the module."""
    root = tmp_path_factory.mktemp(f"loaded-{request.param}")
    made = TARGETS[request.param](request, root)
    project = _project(root / "extract", made)
    run_ok(
        "run", "extractor:src", "--project", str(project), env={"HEADRACE_STATE_DIR": str(made.state_dir), **made.env}
    )
    return made


@pytest.fixture
def loaded(loaded_warehouse: Target, monkeypatch: pytest.MonkeyPatch) -> Target:
    """The module's loaded warehouse, its state folder and secrets in this test's environment."""
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(loaded_warehouse.state_dir))
    for key, value in loaded_warehouse.env.items():
        monkeypatch.setenv(key, value)
    return loaded_warehouse


def _working_schemas(target: Target) -> list[str]:
    """Working areas of transformations: ``tr_*`` schemas, or on DuckDB the work files of each run
    (``STATE/work/tr_<...>-XXXX/``: DuckDB runs a transformation in a file of its own)."""
    if target.name == "duckdb":
        work = target.state_dir / "work"
        return sorted(p.name.rpartition("-")[0] for p in work.glob("tr_*")) if work.is_dir() else []
    rows = target.query("SELECT schema_name FROM information_schema.schemata WHERE left(schema_name, 3) = 'tr_'")
    return sorted(r[0] for r in rows)


def _working_roles(target: Target) -> list[str]:
    if target.name != "postgres":
        return []
    return sorted(r[0] for r in target.query("SELECT rolname FROM pg_roles WHERE left(rolname, 3) = 'hr_'"))


def _task_processes(project: Path) -> list[psutil.Process]:
    """``headrace run-task`` processes of this project (by command line)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmd = proc.info["cmdline"] or []
        if "run-task" in cmd and str(project) in cmd and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def _no_task_process_left(project: Path) -> list[psutil.Process]:
    """Task processes still running once they have had time to clean up and exit (waits, asserts nothing)."""
    deadline = time.monotonic() + 60
    while (left := _task_processes(project)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "headrace", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )


def _wait_for(proc: subprocess.Popen[str], marker: str) -> list[str]:
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            return seen
    raise AssertionError(f"{marker!r} never appeared:\n{''.join(seen)}")


def _schema_appears(target: Target) -> None:
    deadline = time.monotonic() + 60
    while not _working_schemas(target) and time.monotonic() < deadline:
        time.sleep(0.2)


# -- a task stopped by its timeout ------------------------------------------------------------------


def test_transformation_past_its_timeout_is_recorded_as_timeout_and_leaves_nothing(
    tmp_path: Path, loaded: Target
) -> None:
    project = _project(tmp_path / "p", loaded, LONG_SQL[loaded.name], timeout=3)
    proc = headrace("run", "transformation:calc", "--project", str(project), "--run-id", "timed-out")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "timeout" in proc.stdout
    assert [s for s, _ in _history(loaded, "transformation:calc", "timed-out")] == ["timeout"]
    assert _working_schemas(loaded) == []
    assert _working_roles(loaded) == []
    assert _task_processes(project) == []


# -- SIGKILL of a task: the next run and `headrace cleanup` sweep what it left -----------------------


def _kill_task_in_transformation(project: Path, target: Target) -> None:
    """SIGKILL ``run-task`` of the transformation while its working schema exists (inputs already loaded)."""
    run_ok("compile", str(project))
    proc = _start(
        ["run-task", "transformation:calc", "--project", str(project), "--run-id", "killed"],
        env={"HEADRACE_FAULTS": "transformation.working"},
    )
    _wait_for(proc, "FAULT transformation.working")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert len(_working_schemas(target)) == 1  # the attack's starting point: a killed task left its schema
    assert len(_working_roles(target)) == (1 if target.name == "postgres" else 0)


def test_sigkilled_transformation_leftovers_are_swept_by_the_next_run(tmp_path: Path, loaded: Target) -> None:
    project = _project(tmp_path / "p", loaded)
    _kill_task_in_transformation(project, loaded)
    out = run_ok("run", "transformation:calc", "--project", str(project)).stdout
    assert "removed what an earlier task left: working schema tr_calc_" in out
    assert _working_schemas(loaded) == []
    assert _working_roles(loaded) == []
    assert loaded.query("SELECT n FROM out_calc.result") == [(20,)]


def test_headrace_cleanup_removes_leftovers_and_dry_run_only_lists_them(tmp_path: Path, loaded: Target) -> None:
    target = loaded
    project = _project(tmp_path / "p", target)
    _kill_task_in_transformation(project, target)
    leftover = target.state_dir / "tmp" / "src-old@999999999-1"  # a temporary folder of a dead process
    leftover.mkdir(parents=True)
    (leftover / "part-00000.csv.gz").write_bytes(b"x" * 100)
    # a running task's folder in a container (docker worker): pid 7 of its own pid namespace on
    # another host name; no pid here says anything about it, so it stays until it is too old
    in_container = target.state_dir / "tmp" / "src-live@7-1795967337-c0ffee123456"
    in_container.mkdir()

    with target.open() as wh:  # a staging table as a load killed between commit and swap would leave it
        wh.execute("CREATE TABLE in_src._hr_stage_items (id integer)")

    dry = run_ok("cleanup", "--dry-run", "--project", str(project)).stdout
    assert "would remove: working schema tr_calc_" in dry
    assert "would remove: staging table in_src._hr_stage_items" in dry
    assert f"would remove: temporary extract folder {leftover}" in dry
    assert len(_working_schemas(target)) == 1 and leftover.exists()  # a dry run removes nothing

    out = run_ok("cleanup", "--project", str(project)).stdout
    assert "removed: working schema tr_calc_" in out
    assert _working_schemas(target) == [] and _working_roles(target) == [] and not leftover.exists()
    assert in_container.exists()
    assert target.query("SELECT count(*) FROM information_schema.tables WHERE table_name = '_hr_stage_items'") == [(0,)]
    assert target.query("SELECT count(*) FROM in_src.items") == [(20,)]  # the loaded table is untouched
    assert run_ok("cleanup", "--project", str(project)).stdout.strip() == "nothing to remove"


def test_sweep_leaves_a_running_parallel_tasks_schema_alone(tmp_path: Path, loaded: Target) -> None:
    target = loaded
    if target.name == "duckdb":
        pytest.skip("one process at a time writes a DuckDB file: no parallel task to protect")
    project = _project(tmp_path / "p", target, LONG_SQL[target.name], timeout=600)
    run_ok("compile", str(project))
    live = _start(["run-task", "transformation:calc", "--project", str(project), "--run-id", "live"])
    try:
        _schema_appears(target)
        schemas = _working_schemas(target)
        assert len(schemas) == 1
        out = run_ok("cleanup", "--project", str(project)).stdout
        assert out.strip() == "nothing to remove"
        assert _working_schemas(target) == schemas
    finally:
        os.killpg(live.pid, signal.SIGTERM)
        live.wait(timeout=60)
    assert live.returncode == 143
    assert _working_schemas(target) == [] and _working_roles(target) == []


# -- killing `headrace run`: no task process survives --------------------------------------------------


@pytest.mark.parametrize(
    "how",
    ["SIGINT to the group", "SIGTERM to the group", "SIGKILL to the group", "SIGKILL to the parent alone"],
)
def test_killing_headrace_run_leaves_no_task_process(tmp_path: Path, loaded: Target, how: str) -> None:
    project = _project(tmp_path / "p", loaded, LONG_SQL[loaded.name], timeout=600)
    run_id = "killed-" + how.replace(" ", "-")
    proc = _start(["run", "transformation:calc", "--project", str(project), "--run-id", run_id])
    _wait_for(proc, "working schema tr_calc_")  # (DuckDB: the test must not open the file meanwhile)
    assert _task_processes(project), "the task did not start"
    sig = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}.get(how.split()[0], signal.SIGKILL)
    if how.endswith("alone"):
        os.kill(proc.pid, sig)
    else:
        os.killpg(proc.pid, sig)
    out, _ = proc.communicate(timeout=60)
    assert _no_task_process_left(project) == [], f"{how} left the task running"
    assert _working_schemas(loaded) == [] and _working_roles(loaded) == [], out
    if sig != signal.SIGKILL:
        assert proc.returncode == (130 if sig == signal.SIGINT else 143)
    assert [s for s, _ in _history(loaded, "transformation:calc", run_id)] == ["cancelled"]


# -- a kill after the load committed is not a failure ---------------------------------------------------


@pytest.mark.parametrize("killed", ["headrace run", "the task alone"])
def test_task_killed_after_its_load_committed_is_not_recorded_as_failed(
    tmp_path: Path, target: Target, killed: str
) -> None:
    project = _project(tmp_path / "p", target)
    run_ok("compile", str(project))
    proc = _start(["run", "extractor:src", "--project", str(project)], env={"HEADRACE_FAULTS": "load.after_commit"})
    _wait_for(proc, "FAULT load.after_commit")
    if killed == "headrace run":
        os.killpg(proc.pid, signal.SIGKILL)  # `headrace run` dies; its task sees it and stops
    else:
        os.kill(_task_processes(project)[0].pid, signal.SIGKILL)  # `headrace run` sees its task die
    out, _ = proc.communicate(timeout=60)
    assert _no_task_process_left(project) == []
    if killed != "headrace run":
        assert proc.returncode == 0, out  # the run reports what the warehouse holds: the load is there
    assert target.query("SELECT count(*) FROM in_src.items") == [(20,)]
    history = _history(target, "extractor:src")
    assert [s for s, _ in history] == ["success"], history
    assert "every table was loaded and committed" in history[0][1]


# -- retention and temporary folders ----------------------------------------------------------------------


def test_five_runs_keep_exactly_the_last_three_raw_run_folders(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target)
    run_ids = [f"2026010{i}T000000_aaaaaa" for i in range(1, 6)]
    for run_id in run_ids:
        run_ok("run", "extractor:src", "--project", str(project), "--run-id", run_id)
    stored = sorted(p.name for p in (target.state_dir / "storage" / "raw" / "src" / "items").iterdir())
    assert stored == run_ids[-3:]
    assert target.query("SELECT count(*) FROM in_src.items") == [(20,)]


def test_keep_runs_setting_is_honoured(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target)
    (project / "project.yaml").write_text(target.project_yaml() + "retention:\n  keep_runs: 1\n")
    for i in range(1, 4):
        run_ok("run", "extractor:src", "--project", str(project), "--run-id", f"r{i}")
    assert sorted(p.name for p in (target.state_dir / "storage" / "raw" / "src" / "items").iterdir()) == ["r3"]


def test_temporary_folder_of_a_sigkilled_extract_is_removed_by_the_next_run(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target)
    run_ok("compile", str(project))
    proc = _start(
        ["run-task", "extractor:src", "--project", str(project), "--run-id", "killed"],
        env={"HEADRACE_FAULTS": "extract.before_upload"},
    )
    _wait_for(proc, "FAULT extract.before_upload")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    tmp = target.state_dir / "tmp"
    assert len(list(tmp.iterdir())) == 1  # the killed task's extracted files
    out = run_ok("run", "extractor:src", "--project", str(project)).stdout
    assert "removed what an earlier task left: temporary extract folder" in out
    assert list(tmp.iterdir()) == []


def test_retention_removes_the_folder_of_a_run_that_ended_without_loading(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target)
    (project / "project.yaml").write_text(target.project_yaml() + "retention:\n  keep_runs: 1\n")
    run_ok("run", "extractor:src", "--project", str(project), "--run-id", "r1")
    proc = _start(
        ["run", "extractor:src", "--project", str(project), "--run-id", "r2"],
        env={"HEADRACE_FAULTS": "load.before_commit"},
    )
    _wait_for(proc, "FAULT load.before_commit")
    os.kill(_task_processes(project)[0].pid, signal.SIGKILL)  # uploaded, never loaded
    proc.communicate(timeout=60)
    assert [s for s, _ in _history(target, "extractor:src")] == ["success", "failed"]
    folder = target.state_dir / "storage" / "raw" / "src" / "items"
    assert sorted(p.name for p in folder.iterdir()) == ["r1", "r2"]
    run_ok("run", "extractor:src", "--project", str(project), "--run-id", "r3")
    assert sorted(p.name for p in folder.iterdir()) == ["r3"]


def test_no_temporary_extract_folder_remains_after_success_or_failure(tmp_path: Path, target: Target) -> None:
    project = _project(tmp_path / "p", target)
    run_ok("run", "extractor:src", "--project", str(project))
    tmp = target.state_dir / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    (project / "data" / "items.csv").write_text("id,label\nnot a number,x\n")
    failed = headrace("run", "extractor:src", "--project", str(project))
    assert failed.returncode != 0
    assert not tmp.exists() or list(tmp.iterdir()) == []
