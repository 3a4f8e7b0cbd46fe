"""worker: the machines tasks run on (``sweep``: what crashed tasks left, an idle worker VM)."""

from __future__ import annotations

from pathlib import Path

import click
from headrace.cli.run_cmds import PROJECT_OPT


@click.group()
def worker() -> None:
    """The project's worker: the container image, leftovers, the worker VM."""


@worker.command()
@PROJECT_OPT
def sweep(project: Path) -> None:
    """Drop expired VM leases, stop an idle worker VM, remove containers of killed tasks.

    The worker VM stops once it has had no running task for worker.idle_stop_after seconds
    (never with worker.keep_running). Containers are removed when the process that started
    them is gone or their expiry has passed. Prints one line per action; safe while tasks run.
    The sweeper DAG runs this every few minutes.
    """
    from headrace.paths import PROJECT_FILE
    from headrace.project.compile import compile_project
    from headrace.project.manifest import read_manifest
    from headrace.resolve import resolved_config
    from headrace.secrets import SecretResolver
    from headrace.workers import open_worker
    from headrace.workers.docker import DockerWorkerConfig
    from headrace.workers.sweep import sweep_engine, sweep_vm
    from headrace.workers.vm.worker import VmWorker

    manifest = read_manifest(compile_project(project))
    raw = manifest.project.worker
    secrets = SecretResolver(project.resolve(), manifest.project.secrets)
    config = resolved_config("worker", raw, secrets, PROJECT_FILE, "worker")
    if isinstance(config, DockerWorkerConfig):
        actions = sweep_engine(config.docker_host)
    else:
        opened = open_worker(str(raw.get("type")), raw, secrets)
        actions = sweep_vm(opened, project) if isinstance(opened, VmWorker) else []
    for line in actions:
        click.echo(line)


COMMANDS = [worker]
