"""worker: the Headrace worker image (``build-image``), what workers leave behind and an idle VM (``sweep``)."""

from __future__ import annotations

from pathlib import Path

import click
from headrace.cli.run_cmds import PROJECT_OPT


@click.group()
def worker() -> None:
    """The worker image and the workers that run tasks (project.yaml worker:)."""


@worker.command("build-image")
@click.option(
    "--wheel",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the headrace-*.whl to install (default: HEADRACE_WHEEL, else built from this checkout)",
)
@click.option("--docker-host", help="the Docker engine (default: DOCKER_HOST, else the local socket)")
def build_image(wheel: Path | None, docker_host: str | None) -> None:
    """Build the worker image (this version of Headrace with its extractors) on a Docker engine.

    Its base, a Debian bookworm minbase root filesystem made with debootstrap (root needed,
    cached under ~/.cache/headrace), is imported on the engine when it lacks it; nothing is
    pulled from a registry. pip reaches PyPI from the build through the host network.
    """
    from headrace.workers.docker import WORKER_IMAGE
    from headrace.workers.docker.build import build_worker_image
    from headrace.workers.docker.engine import connect

    client = connect(docker_host)
    try:
        image_id = build_worker_image(client, click.echo, wheel=wheel)
    finally:
        client.close()
    click.echo(f"built {WORKER_IMAGE} ({image_id})")


@worker.command()
@PROJECT_OPT
def sweep(project: Path) -> None:
    """Drop expired VM leases, stop an idle worker VM, remove containers of killed tasks.

    The worker VM stops once it has had no running task for worker.idle_stop_after seconds
    (never with worker.keep_running). Containers are removed when the process that started
    them is gone or their expiry has passed. Prints one line per action; safe while tasks run.
    The sweeper DAG runs this every few minutes. Reads the project's compiled manifest (compiles
    the project when it has none).
    """
    from headrace.paths import PROJECT_FILE, manifest_path
    from headrace.project.compile import compile_project
    from headrace.project.manifest import read_manifest
    from headrace.resolve import resolved_config
    from headrace.secrets import SecretResolver
    from headrace.workers import open_worker
    from headrace.workers.docker import DockerWorkerConfig
    from headrace.workers.sweep import sweep_engine, sweep_vm
    from headrace.workers.vm.worker import VmWorker

    compiled = manifest_path(project)  # what the tasks ran with (Airflow's project versions are compiled)
    manifest = read_manifest(compiled if compiled.is_file() else compile_project(project))
    raw = manifest.project.worker
    secrets = SecretResolver(project.resolve(), manifest.project.secrets)
    config = resolved_config("worker", raw, secrets, PROJECT_FILE, "worker")
    if isinstance(config, DockerWorkerConfig):
        actions = sweep_engine(config.docker_host)
    else:
        opened = open_worker(str(raw.get("type")), raw, secrets)
        actions = sweep_vm(opened, project) if isinstance(opened, VmWorker) else []
    # container components of a project whose own worker runs no images run on this machine's engine
    engines = {getattr(task.container, "worker", None) for task in manifest.tasks.values() if task.kind != "datamart"}
    if "docker" in engines and not isinstance(config, DockerWorkerConfig):
        actions += sweep_engine(None)
    for line in actions:
        click.echo(line)


COMMANDS = [worker]
