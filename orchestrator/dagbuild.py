"""Build Airflow DAGs from ``manifest.json``: what the static DAG file calls.

Parse time does one thing: read one JSON file. No network, database, subprocess or
project code. Order inside an orchestration comes from ``headrace.plan`` (the function
``headrace run`` uses too): every task of a step waits for the whole previous step, and a
task of a parallel group for the tasks of its group that produce its inputs.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param
from airflow.sdk.definitions.param import ParamsDict  # airflow.sdk exports it, its stub file does not
from headrace.errors import ConfigError
from headrace.orchestrator import settings
from headrace.orchestrator.naming import (
    PROJECT_UPDATE,
    SANDBOX,
    SANDBOX_SWEEPER,
    WAREHOUSE_POOL,
    WORKER_SWEEPER,
    dag_name,
    orchestration_dag_name,
    task_name,
)
from headrace.orchestrator.operators import (
    FailWhenUpstreamFailedOperator,
    HeadraceTaskOperator,
    ProjectUpdateOperator,
    SandboxOperator,
    WorkerSweepOperator,
)
from headrace.orchestrator.pools import single_writer, task_pool
from headrace.orchestrator.sandboxes import ACTIONS, USER_MAX, USER_PATTERN, sandbox_transformations
from headrace.orchestrator.sandboxes import sweep_schedule as sandbox_sweep_schedule
from headrace.orchestrator.sweeper import needs_sweeper
from headrace.plan import orchestration_plan
from headrace.project.manifest import Manifest, Task, read_manifest
from headrace.workers.base import KILL_GRACE_S

log = logging.getLogger(__name__)

# Airflow's own timeout is a backstop: the worker stops the task first, with a clear message.
TIMEOUT_MARGIN_S = int(KILL_GRACE_S) + 30
FULL_REFRESH = "full_refresh"


def _params() -> ParamsDict:
    return ParamsDict(
        {
            FULL_REFRESH: Param(
                False,
                type="boolean",
                title="Full refresh",
                description="Reload incremental and append tables from scratch.",
            )
        }
    )


def _common(manifest: Manifest) -> dict[str, Any]:
    # No start_date and no catchup: a schedule first fires at its next time, like cron;
    # after downtime the latest missed run runs once.
    return {
        "catchup": False,
        "max_active_runs": 1,
        "is_paused_upon_creation": False,  # a pushed orchestration runs on its schedule, no clicks needed
        "default_args": {
            "owner": manifest.project.name,
            "retry_delay": timedelta(seconds=manifest.project.defaults.retry_delay),
            "retry_exponential_backoff": True,
        },
    }


def _operator(task: Task, project_dir: Path, one_writer: bool, **kwargs: Any) -> HeadraceTaskOperator:
    """The task in its pool of one slot: its component's, or the project's with a one-writer warehouse."""
    return HeadraceTaskOperator(
        task_id=task_name(task.id),
        pool=task_pool(task.id, one_writer),
        headrace_task=task.id,
        project_dir=str(project_dir),
        worker_type=task.runs_on,
        worker_timeout_s=task.timeout,
        retries=task.retries,
        execution_timeout=timedelta(seconds=task.timeout + TIMEOUT_MARGIN_S),
        doc_md=task.description or None,
        **kwargs,
    )


def _component_doc(task: Task, commit: str | None) -> str:
    version = f"commit `{commit}`" if commit else "a version not compiled from git"
    lines = [f"**{task.id}** (runs on: {task.runs_on}), {version}", ""]
    for label, values in (("Reads", task.reads), ("Writes", task.writes), ("Depends on", task.depends_on)):
        if values:
            lines.append(f"- {label}: {', '.join(values)}")
    lines.append(f"- Schema: {task.target_schema}")
    return "\n".join(lines)


def component_dag(task: Task, manifest: Manifest, project_dir: Path, one_writer: bool) -> DAG:
    """One on-demand DAG for an extractor, transformation or datamart."""
    with DAG(
        dag_name(task.id),
        schedule=None,
        description=task.description or f"Run {task.id} on demand",
        doc_md=_component_doc(task, manifest.project.commit),
        tags=["headrace", task.kind],
        params=_params(),
        **_common(manifest),
    ) as dag:
        _operator(task, project_dir, one_writer)
    return dag


def _in_parallel(stage: list[str], after: dict[str, list[str]]) -> str:
    """`` (in parallel; b after a)``: a group's tasks run at once, except where one reads what another writes."""
    if len(stage) < 2:
        return ""
    waits = [f"{t} after {', '.join(after[t])}" for t in stage if after.get(t)]
    return " (in parallel" + "".join(f"; {w}" for w in waits) + ")"


def orchestration_dag(orch_id: str, manifest: Manifest, project_dir: Path, one_writer: bool) -> DAG:
    """``orchestration_<id>``: the orchestration's steps on its cron (none = manual only)."""
    orch = manifest.orchestrations[orch_id]
    plan = orchestration_plan(manifest, orch_id)
    steps = "\n".join(
        f"{n}. {', '.join(stage)}{_in_parallel(stage, plan.after)}" for n, stage in enumerate(plan.stages, 1)
    )
    after_failure = "later steps still run" if plan.continue_on_error else "later steps are skipped"
    doc = f"Steps:\n\n{steps}\n\nWhen a task fails, {after_failure} (continue_on_error: {plan.continue_on_error})."
    with DAG(
        orchestration_dag_name(orch_id),
        schedule=orch.schedule,
        description=orch.description or f"Orchestration {orch_id}",
        doc_md=doc,
        tags=["headrace", "orchestration"],
        params=_params(),
        **_common(manifest),
    ) as dag:
        # With continue_on_error a step runs once the previous one is done, whatever its outcome.
        rule = "all_done" if plan.continue_on_error else "all_success"
        ops = {tid: _operator(manifest.tasks[tid], project_dir, one_writer, trigger_rule=rule) for tid in plan.tasks()}
        for upstream, downstream in plan.edges():
            ops[upstream].set_downstream(ops[downstream])
        if plan.continue_on_error and ops:
            check = FailWhenUpstreamFailedOperator(task_id="fail_if_any_failed", trigger_rule="one_failed", retries=0)
            check.set_upstream(list(ops.values()))
    return dag


def _platform() -> dict[str, Any]:
    """Headrace's own DAGs (not the project's): one run at a time, running from the start."""
    return {
        "tags": ["headrace", "platform"],
        "catchup": False,
        "max_active_runs": 1,
        "is_paused_upon_creation": False,
        "default_args": {"owner": "headrace"},
    }


def project_update_dag(environ: Mapping[str, str], problem: str | None) -> DAG:
    source = settings.source(environ)
    if source.repo or source.folder:
        doc = (
            f"Fetch {source.describe()}; validate and compile the newest version in a scratch folder; "
            "switch to it if it is new and valid. An invalid version fails this DAG with its errors in the log "
            "and the running version stays."
        )
    else:
        doc = "No project source is configured: set HEADRACE_PROJECT_REPO (a git URL or path) for Airflow."
    if problem:
        doc += f"\n\n**The running manifest could not be read:** {problem}"
    with DAG(
        PROJECT_UPDATE,
        schedule=settings.update_schedule(environ),
        description="Deploy the newest valid project version from git",
        doc_md=doc,
        **_platform(),
    ) as dag:
        ProjectUpdateOperator(task_id="update", retries=0, execution_timeout=timedelta(minutes=20))
    return dag


def worker_sweeper_dag(environ: Mapping[str, str], project_dir: Path) -> DAG:
    """``headrace_worker_sweeper``: what killed tasks left on an image-running worker, an idle worker VM."""
    with DAG(
        WORKER_SWEEPER,
        schedule=settings.sweep_schedule(environ),
        description="Remove containers of killed tasks and stop an idle worker VM",
        doc_md=(
            "Runs `headrace worker sweep` on the Airflow machine (never on the worker VM): removes containers "
            "whose task is gone or past its expiry, drops expired VM leases and stops the worker VM once it has "
            "been idle for `worker.idle_stop_after` seconds (never with `keep_running`). Schedule: "
            "HEADRACE_SWEEP_SCHEDULE."
        ),
        **_platform(),
    ) as dag:
        WorkerSweepOperator(
            task_id="sweep", project_dir=str(project_dir), retries=0, execution_timeout=timedelta(minutes=15)
        )
    return dag


def sandbox_dag(transformations: list[str], project_dir: Path, one_writer: bool) -> DAG:
    """``headrace_sandbox``: create, run or drop an analyst's sandbox, triggered by hand with parameters."""
    params = ParamsDict(
        {
            "action": Param(
                "create", enum=list(ACTIONS), title="Action", description="create, run or drop the sandbox"
            ),
            "transformation": Param(
                transformations[0], enum=transformations, title="Transformation", description="whose inputs it holds"
            ),
            "user": Param(  # no default: a run without a user fails with a message, creating nothing
                None,
                type=["null", "string"],
                pattern=USER_PATTERN,
                maxLength=USER_MAX,
                title="User",
                description="whose sandbox: lowercase words joined by single underscores, e.g. jan_novak",
            ),
        }
    )
    with DAG(
        SANDBOX,
        schedule=None,
        description="Create, run or drop an analyst's sandbox",
        doc_md=(
            "Trigger with parameters: **create** makes the user's sandbox of a transformation (its declared "
            "inputs, and a login valid only there) and logs how to connect; the password is not logged: it is in "
            "the secret store, and `headrace sandbox credentials <transformation> --user <user>` shows it. "
            "**run** runs the transformation's SQL in the sandbox as its login, publishing nothing; **drop** "
            "removes it. Idle sandboxes are dropped by `headrace_sandbox_sweeper`. See docs/sandboxes.md."
        ),
        params=params,
        **{**_platform(), "max_active_runs": 4},
    ) as dag:
        SandboxOperator(
            task_id="sandbox",
            project_dir=str(project_dir),
            retries=0,
            execution_timeout=timedelta(hours=2),
            pool=_sandbox_pool(one_writer),
        )
    return dag


def _sandbox_pool(one_writer: bool) -> str:
    """A warehouse that takes one writer (DuckDB) serialises sandbox commands with the project's tasks."""
    return WAREHOUSE_POOL if one_writer else "default_pool"


def sandbox_sweeper_dag(environ: Mapping[str, str], project_dir: Path, one_writer: bool) -> DAG:
    """``headrace_sandbox_sweeper``: drop sandboxes idle for longer than ``sandboxes.idle_expiry``."""
    with DAG(
        SANDBOX_SWEEPER,
        schedule=sandbox_sweep_schedule(environ),
        description="Drop analysts' sandboxes that have been idle too long",
        doc_md=(
            "Runs `headrace sandbox sweep`: drops every sandbox not used for longer than `sandboxes.idle_expiry` "
            "in project.yaml (default 7 days); a sandbox whose login has a session open counts as used. "
            "Schedule: HEADRACE_SANDBOX_SWEEP_SCHEDULE (default hourly)."
        ),
        **_platform(),
    ) as dag:
        SandboxOperator(
            task_id="sweep",
            project_dir=str(project_dir),
            action="sweep",
            retries=0,
            execution_timeout=timedelta(minutes=15),
            pool=_sandbox_pool(one_writer),
        )
    return dag


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while thousands of DAG and operator objects are made.

    With Airflow loaded, every full collection walks a million objects; a large project
    triggered several per parse, which made parse time both slower and erratic. The
    collector runs again as soon as the DAGs are built.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_dags(environ: Mapping[str, str] = os.environ) -> dict[str, DAG]:
    with _gc_paused():
        return _build_dags(environ)


def _build_dags(environ: Mapping[str, str]) -> dict[str, DAG]:
    """Every DAG of the deployed project, by DAG id. ``project_update`` is always there.

    A missing or unreadable manifest leaves only ``project_update``: it is what deploys one.
    """
    manifest, problem = None, None
    try:
        location = settings.locate_manifest(environ)
        manifest = read_manifest(location.manifest)
    except ConfigError as exc:
        problem = str(exc)
        if not location.manifest.exists():
            problem = f"no manifest at {location.manifest}: trigger project_update to deploy the project"
        log.warning("Headrace DAGs: %s; only project_update is available", problem)
    except (LookupError, OSError, ValueError) as exc:
        problem = str(exc)
        log.warning("Headrace DAGs: %s; only project_update is available", problem)
    dags = {PROJECT_UPDATE: project_update_dag(environ, problem)}
    if manifest is None:
        return dags
    one_writer = single_writer(manifest)
    for task in manifest.tasks.values():
        dag = component_dag(task, manifest, location.project_dir, one_writer)
        dags[dag.dag_id] = dag
    for orch_id in manifest.orchestrations:
        dag = orchestration_dag(orch_id, manifest, location.project_dir, one_writer)
        dags[dag.dag_id] = dag
    if needs_sweeper(manifest):
        dags[WORKER_SWEEPER] = worker_sweeper_dag(environ, location.project_dir)
    transformations = sandbox_transformations(manifest)
    if transformations:
        dags[SANDBOX] = sandbox_dag(transformations, location.project_dir, one_writer)
        dags[SANDBOX_SWEEPER] = sandbox_sweeper_dag(environ, location.project_dir, one_writer)
    return dags
