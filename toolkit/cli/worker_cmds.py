"""worker: the Headrace worker image (``build-image``) and what workers leave behind."""

from __future__ import annotations

from pathlib import Path

import click


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


COMMANDS = [worker]
