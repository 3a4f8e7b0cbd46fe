"""A ``build:`` folder of the project as an image on the engine that runs it.

The tag carries a hash of the folder's content (``headrace.containers.plan``), so an engine
that has the tag has this very build: it is built once per engine and content. Building
needs the engine's API: the ``docker`` worker's engine (this machine's or ``docker_host``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from headrace.errors import ConfigError
from headrace.project.manifest import ContainerRun
from headrace.workers.base import Worker


def prepare(run: ContainerRun, worker: Worker, project_dir: Path, file: str, on_line: Callable[[str], None]) -> None:
    """Build ``run.image`` from ``run.build`` where the engine lacks it; nothing for a named image
    (the worker checks it is there and says how to get it)."""
    if run.build is None:
        return
    from headrace.workers.docker.worker import DockerWorker

    if not isinstance(worker, DockerWorker):
        raise ConfigError(
            f"{file}: build: images are built on a Docker engine Headrace reaches directly, and the "
            f"{run.worker} worker runs them elsewhere: build the image on the worker yourself and name it "
            "with image:, or run the project with the docker worker"
        )
    from headrace.workers.docker.build import BASE_IMAGE, ensure_base
    from headrace.workers.docker.engine import connect
    from headrace.workers.docker.image import build_image, has_image

    context = project_dir / run.build
    client = connect(worker.config.docker_host)
    try:
        if has_image(client, run.image):
            return
        if _builds_from(context / "Dockerfile", BASE_IMAGE):
            ensure_base(client, on_line)  # Headrace's Debian base, imported from Debian's packages
        on_line(f"building {run.image} from {run.build}/ on the Docker engine")
        build_image(client, context, run.image, on_line)
    finally:
        client.close()


def _builds_from(dockerfile: Path, image: str) -> bool:
    """Whether a ``FROM`` line of the Dockerfile names ``image``."""
    lines = dockerfile.read_text(encoding="utf-8", errors="replace").splitlines()
    return any(line.split()[:2] == ["FROM", image] for line in lines if line.strip().upper().startswith("FROM"))
