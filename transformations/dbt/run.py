"""Run a dbt transformation: ``dbt build`` inside the confined session a SQL transformation gets.

The warehouse opens the session (working schema ``tr_<id>_<run>`` with the declared inputs only)
and lets dbt log in to it (``TransformationSession.login``): on PostgreSQL as the run's throwaway
role, on DuckDB on the run's own database file with external access off and the configuration
locked. dbt builds its models there; the declared outputs are then checked and published to
``out_<id>`` exactly as a SQL transformation's are. dbt's results (run_results.json) decide:
failing tests or models fail the task by name; a dbt project that does not build (compile
errors) is a configuration error (exit 2, not retried).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headrace.errors import ConfigError, TaskFailed
from headrace.lifecycle import owner_token
from headrace.paths import state_dir
from headrace.project.confine import OutsideProject, resolve_inside
from headrace.project.manifest import DbtRun, TransformationTask
from headrace.redaction import remember
from headrace.transformations.dbt import packages, project, venv
from headrace.transformations.dbt.invoke import invoke
from headrace.transformations.dbt.profiles import profile
from headrace.transformations.sql import EXPIRY_MARGIN_S, run_token
from headrace.warehouses.base import TransformationSession, Warehouse
from headrace.workers.base import KILL_GRACE_S

FAILED = {"error", "fail", "runtime error"}
KEEP_ENV = "HEADRACE_DBT_KEEP"  # set: keep the run's folder (dbt's target/ and logs/) for inspection


def run(
    warehouse: Warehouse,
    task: TransformationTask,
    run_id: str,
    log: Callable[[str], None],
    project_dir: Path | None = None,
) -> dict[str, int]:
    """``dbt build`` in a fresh working schema; rows of each published output."""
    dbt = task.dbt
    if dbt is None or project_dir is None:
        raise ConfigError(f"{task.source_file}: the manifest holds no dbt run: compile the project again")
    where = f"transformations/{task.component}"
    try:
        source = resolve_inside(project_dir, dbt.project_dir)
    except OutsideProject as exc:
        raise ConfigError(f"{task.source_file}: project_dir: {exc}") from None
    settings = project.settings(source)
    python_files = project.python_models(source, settings)
    if python_files:  # checked at compile too: the folder a task sees can differ from the one compiled
        raise ConfigError(
            f"{dbt.project_dir}: Python models are refused ({', '.join(python_files)}): write them in SQL"
        )
    python = venv.ensure(dbt.adapter, log)
    state = state_dir(project_dir)
    installed = packages.ensure(python, source, settings, state, dbt.project_dir, log)
    runs = state / "dbt" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    work = f"{task.work_schema_prefix}_{run_token(run_id, task.id)}"
    folder = Path(tempfile.mkdtemp(prefix=f"{work}-", dir=runs))
    expires_at = time.time() + task.timeout + 2 * KILL_GRACE_S + EXPIRY_MARGIN_S
    warehouse.register_working_schema(work, run_id, task.id, owner_token(), expires_at)
    try:
        inputs = {i.alias: i.table for i in task.inputs}
        with warehouse.transformation_session(work, inputs, task.timeout) as session:
            _build(session, dbt, task, python, source, settings, installed, folder, log)
            not_made = "were not built by dbt; build them (a model of that name)"
            rows = session.publish_outputs(task.target_schema, task.outputs, where, not_made)
    finally:
        warehouse.unregister_working_schema(work)
        if not os.environ.get(KEEP_ENV):
            shutil.rmtree(folder, ignore_errors=True)
    for name, count in rows.items():
        log(f"{task.target_schema}.{name}: {count:,} rows")
    return rows


def _build(
    session: TransformationSession,
    dbt: DbtRun,
    task: TransformationTask,
    python: Path,
    source: Path,
    settings: dict[str, Any],
    installed: Path | None,
    folder: Path,
    log: Callable[[str], None],
) -> None:
    config = task.config
    args = ["build", "--threads", str(dbt.threads)]
    for flag in ("select", "exclude"):
        if config.get(flag):
            args += [f"--{flag}", *config[flag]]
    with session.login(dbt.threads + 1) as login:
        for value in login.secrets.values():
            remember(value)
        copy = folder / "project"
        project.copy_for_run(source, copy, settings, [i.alias for i in task.inputs], login.schema, installed)
        text, env = profile(dbt.adapter, login, dbt.threads)
        (folder / "profiles.yml").write_text(text, encoding="utf-8")
        log(f"dbt {' '.join(args)} in the working schema {login.schema} ({dbt.adapter})")
        tail: list[str] = []
        code = invoke(python, args, copy, folder, env, log, tail)
    _judge(code, folder / "target" / "run_results.json", f"transformations/{task.component}", tail)


def _judge(code: int, results_file: Path, where: str, tail: list[str]) -> None:
    """Fail the task the way dbt's results say."""
    if code == 0:
        return
    try:
        results = json.loads(results_file.read_text(encoding="utf-8")).get("results", [])
    except (OSError, ValueError):
        results = None
    if code == 2 or results is None:
        said = "\n".join(tail).split("Encountered an error:")[-1].strip() or "see its log above"
        raise ConfigError(f"{where}: the dbt project does not build (dbt exited {code}):\n  {said}")
    failed = [r for r in results if r.get("status") in FAILED]
    lines = [f"{r.get('unique_id')}: {r.get('status')}: {(r.get('message') or '').strip()}" for r in failed]
    raise TaskFailed(f"{where}: dbt build failed: {len(failed)} node(s) failed:\n  " + "\n  ".join(lines))
