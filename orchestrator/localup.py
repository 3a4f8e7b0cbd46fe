"""``headrace airflow up``: deploy the project, start Airflow, wait for its DAGs, show how to log in."""

from __future__ import annotations

import json
import time

from headrace.cli.output import console, print_project_errors
from headrace.errors import ConfigError, ProjectInvalid, TaskFailed
from headrace.orchestrator import naming
from headrace.orchestrator.api import AirflowApi, ApiError
from headrace.orchestrator.deployments import current_deployment, deployed, read_json
from headrace.orchestrator.launcher import running_pid, start, wait_for_dags
from headrace.orchestrator.localenv import ADMIN, LocalAirflow, airflow_env, ensure_password, read_launch, read_password
from headrace.orchestrator.settings import MANIFEST_RELPATH
from headrace.orchestrator.sources import safe_url
from headrace.project.manifest import read_manifest


def _deploy(config: LocalAirflow) -> None:
    """Deploy the newest version before Airflow starts, so its first parse shows the DAGs.

    An invalid version is fatal only when nothing was deployed before; otherwise the
    previous version keeps running and the errors are shown.
    """
    from headrace.orchestrator.update import update_project

    out = console()
    try:
        result = update_project(
            config.home, config.source, config.dags_folder, log=lambda _line: None, state_dir=config.state_dir
        )
    except ProjectInvalid as exc:
        if current_deployment(config.home) is None:
            raise
        print_project_errors(exc)
        running = (deployed(config.home) or {}).get("version", "?")
        out.print(f"[yellow]the newest version is invalid: Airflow keeps running {running}[/yellow]")
        return
    out.print(f"project {config.source.describe()}: {result.status} {result.version}")


def start_local_airflow(config: LocalAirflow, timeout_s: float) -> None:
    from headrace.orchestrator.cli import install_dags

    out = console()
    if running_pid(config):
        launch = read_launch(config) or {}
        out.print(f"Airflow is already running at {launch.get('url')} (stop it with `headrace airflow down`)")
        return
    _deploy(config)
    install_dags(config.dags_folder)
    password, fresh = ensure_password(config)
    env = airflow_env(config)
    out.print(f"starting Airflow on {config.url} (log: {config.log_file})")
    started = time.monotonic()
    start(config, env, timeout_s)
    api = AirflowApi(config.url, ADMIN, password)
    deployment = current_deployment(config.home)
    manifest = read_manifest(deployment / MANIFEST_RELPATH) if deployment else None
    wait_for_dags(api, naming.dag_ids(manifest), max(30.0, timeout_s - (time.monotonic() - started)))
    out.print(f"\n[bold green]Airflow is ready[/bold green]: {config.url}")
    out.print(f"  user:     {ADMIN}")
    if fresh:
        out.print(f"  password: {password}   (shown once; kept in {config.password_file})")
    else:
        out.print(f"  password: in {config.password_file}")
    out.print(f"  lineage:  {config.url}/plugin/headrace   (the Headrace entry in the navigation)")
    out.print(f"  stop it:  headrace airflow down --home {config.home.root}")


def print_status(config: LocalAirflow) -> None:
    out = console()
    launch = read_launch(config) or {}
    pid = running_pid(config)
    out.print(f"home:        {config.home.root}")
    out.print(f"airflow:     {'running at ' + str(launch.get('url')) + f' (pid {pid})' if pid else 'stopped'}")
    info = deployed(config.home)
    where = f"{info['version']} from {safe_url(info['source'])}" if info else "nothing yet"
    out.print(f"deployed:    {where}", markup=False)
    last = read_json(config.home.last_update_file)
    if last:
        out.print(f"last update: {last['status']} {last.get('version') or ''}".rstrip())
        for error in last.get("errors") or []:
            out.print(f"  {error}", markup=False)


def trigger_dag(config: LocalAirflow, dag_id: str, conf: dict, wait: bool) -> None:
    launch = read_launch(config)
    if not launch or not running_pid(config):
        raise ConfigError(f"no Airflow is running for {config.home.root}: start it with `headrace airflow up`")
    api = AirflowApi(launch["url"], ADMIN, read_password(config))
    try:
        run_id = api.trigger(dag_id, conf)
    except ApiError as exc:  # Airflow refused the run: no such DAG, or a parameter its Params refuse
        detail = _detail(str(exc))
        hint = "see the DAG's parameters in the UI (Trigger)" if exc.status == 400 else "check the DAG id"
        raise ConfigError(f"Airflow refused to trigger {dag_id}: {detail} ({hint})") from None
    console().print(f"triggered {dag_id}: {run_id}")
    if not wait:
        return
    state = api.wait_for_run(dag_id, run_id, timeout_s=24 * 3600)
    failed = [task for task, s in api.task_instances(dag_id, run_id).items() if s == "failed"]
    if state != "success":
        raise TaskFailed(f"{dag_id} {state}" + (f": failed tasks {', '.join(failed)}" if failed else ""))
    console().print(f"[green]{dag_id} succeeded[/green]")


def _detail(error: str) -> str:
    """The first line of Airflow's ``detail`` in an API error, else the error itself."""
    body = error.split(": ", 1)[-1]
    try:
        detail = json.loads(body).get("detail", body)
    except (ValueError, AttributeError):
        detail = body
    return str(detail).strip().splitlines()[0] if str(detail).strip() else error
