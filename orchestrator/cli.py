"""``headrace airflow ...``: a local Airflow 3 for the project, and the commands Airflow runs.

up / down / status / trigger: a local Airflow on 127.0.0.1 (SQLite, or PostgreSQL by
configuration). install-dags: put the static DAG file into an Airflow dags folder.
update-project: what the ``project_update`` DAG runs.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import click
from headrace.cli.output import console
from headrace.errors import ConfigError, ProjectInvalid
from headrace.orchestrator import settings
from headrace.orchestrator.localenv import LocalAirflow
from headrace.orchestrator.settings import Home, Source

HOME_OPT = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="deployment home (default: $HEADRACE_HOME, else PROJECT/.headrace/airflow, else ~/.headrace)",
)
PROJECT_OPT = click.option(
    "-p", "--project", type=click.Path(file_okay=False, path_type=Path), help="project folder (default: .)"
)


@click.group()
def airflow() -> None:
    """Airflow 3 for the project: a local instance with its UI, and the DAG file."""


def _home(home: Path | None, project: Path | None, git_only: bool = False) -> Home:
    """--home, $HEADRACE_HOME, the project's own state folder, or ~/.headrace (git-only setups)."""
    from headrace.paths import state_dir

    if home:
        return Home(home.expanduser().resolve())
    if configured := settings.home():
        return configured
    if project is not None:
        return Home(state_dir(project) / "airflow")
    here = Home(state_dir(Path(".")) / "airflow")
    return here if here.root.exists() and not git_only else Home(Path.home() / ".headrace")


@airflow.command()
@PROJECT_OPT
@click.option("--repo", envvar="HEADRACE_PROJECT_REPO", help="deploy from this git remote (URL or path) instead")
@click.option(
    "--branch", envvar="HEADRACE_PROJECT_BRANCH", default=settings.DEFAULT_BRANCH, show_default=True, help="with --repo"
)
@HOME_OPT
@click.option("--port", default=8080, show_default=True, help="port of the UI and API on 127.0.0.1")
@click.option("--parallelism", default=4, show_default=True, help="tasks that may run at the same time")
@click.option(
    "--db-url",
    envvar="AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    help="metadata database, e.g. postgresql+psycopg://user:password@host/db (default: SQLite in the home)",
)
@click.option("--timeout", default=300, show_default=True, help="seconds to wait for Airflow and the DAGs")
def up(
    project: Path | None,
    repo: str | None,
    branch: str,
    home: Path | None,
    port: int,
    parallelism: int,
    db_url: str | None,
    timeout: int,
) -> None:
    """Start a local Airflow 3 on 127.0.0.1 with the project's DAGs; print URL, user and password."""
    from headrace.orchestrator.localup import start_local_airflow
    from headrace.orchestrator.sources import remember_url_credentials
    from headrace.paths import state_dir

    for url in (repo, db_url):  # a token or password in them is redacted from everything printed
        remember_url_credentials(url)
    folder = None if repo else (project or Path(".")).resolve()
    where = _home(home, folder, git_only=bool(repo))
    configured_state = os.environ.get("HEADRACE_STATE_DIR")
    config = LocalAirflow(
        where,
        Source(repo, branch, folder),
        port=port,
        parallelism=parallelism,
        db_url=db_url,
        state_dir=Path(configured_state)
        if configured_state
        else (state_dir(folder) if folder else where.root / "state"),
        secrets_file=folder / ".secrets.yaml" if folder else None,
    )
    start_local_airflow(config, timeout)


@airflow.command()
@PROJECT_OPT
@HOME_OPT
def down(project: Path | None, home: Path | None) -> None:
    """Stop the local Airflow (its whole process group)."""
    from headrace.orchestrator.launcher import stop

    config = LocalAirflow(_home(home, project), settings.source())
    if stop(config):
        console().print("Airflow stopped")
    else:
        console().print(f"no Airflow was running for {config.home.root}")


@airflow.command()
@PROJECT_OPT
@HOME_OPT
def status(project: Path | None, home: Path | None) -> None:
    """Is the local Airflow running, which project version is deployed, how did the last update go."""
    from headrace.orchestrator.localup import print_status

    print_status(LocalAirflow(_home(home, project), settings.source()))


@airflow.command(name="install-dags")
@click.argument("dags_folder", type=click.Path(file_okay=False, path_type=Path))
def install_dags_cmd(dags_folder: Path) -> None:
    """Copy the static DAG file into DAGS_FOLDER (an Airflow dags folder)."""
    target = install_dags(dags_folder)
    console().print(f"installed {target}")


def install_dags(dags_folder: Path) -> Path:
    """Put ``headrace_dags.py`` into ``dags_folder``; unchanged content is not rewritten (no re-parse)."""
    import headrace.orchestrator.dags as package

    source = Path(next(iter(package.__path__))) / "headrace_dags.py"
    dags_folder.mkdir(parents=True, exist_ok=True)
    target = dags_folder / source.name
    if target.is_file() and target.read_bytes() == source.read_bytes():
        return target
    tmp = dags_folder / f".{source.name}.tmp"
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target


@airflow.command(name="update-project")
@click.option("--force", is_flag=True, help="switch even if the newest version is already deployed")
def update_project_cmd(force: bool) -> None:
    """Fetch, validate and compile the newest project version; switch to it if valid (project_update runs this)."""
    from headrace.orchestrator.deployments import deployed
    from headrace.orchestrator.pools import keeper_for_environment
    from headrace.orchestrator.update import update_project

    home = settings.home()
    if home is None:
        raise ConfigError("HEADRACE_HOME is not set: point it at the deployment home (see docs/airflow.md)")
    source = settings.source()

    def log(line: str) -> None:
        print(line, flush=True)

    try:
        pools = keeper_for_environment(os.environ, log)
        result = update_project(home, source, settings.dags_folder(), log=log, force=force, pools=pools)
    except ProjectInvalid as exc:
        running = (deployed(home) or {}).get("version", "nothing")
        print(
            f"REJECTED: the newest version of {source.describe()} has {len(exc.errors)} error(s); "
            f"still running {running}",
            flush=True,
        )
        raise
    print(f"{result.status}: {result.version}", flush=True)


@airflow.command()
@click.argument("dag_id")
@click.option("--conf", default="{}", help="JSON options for the run, e.g. '{\"full_refresh\": true}'")
@click.option("--wait/--no-wait", default=True, show_default=True, help="wait for the run to finish")
@PROJECT_OPT
@HOME_OPT
def trigger(dag_id: str, conf: str, wait: bool, project: Path | None, home: Path | None) -> None:
    """Trigger DAG_ID on the local Airflow (as the UI's Trigger button does)."""
    from headrace.orchestrator.localup import trigger_dag

    try:
        options = json.loads(conf)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--conf") from None
    trigger_dag(LocalAirflow(_home(home, project), settings.source()), dag_id, options, wait)
