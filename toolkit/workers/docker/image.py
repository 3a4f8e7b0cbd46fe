"""Images on the engine: the worker image built when it is missing, anything else named in a clear error.

``ensure_image`` is called before each container: the Headrace worker image
(``WORKER_IMAGE``) is built on the engine from this version's wheel when the engine lacks it
(``headrace worker build-image`` does the same by hand, ``headrace.workers.docker.build``);
any other missing image is a ``ConfigError`` that names it and how to get it there.
``build_image`` streams a Dockerfile build's progress lines: the worker image and
components' own images (a ``build:`` folder) share it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from headrace.errors import ConfigError, TaskFailed
from headrace.workers.docker import WORKER_IMAGE

if TYPE_CHECKING:
    import docker

OnLine = Callable[[str], None]
_building = threading.Lock()


def has_image(client: docker.DockerClient, image: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        client.images.get(image)
    except ImageNotFound:
        return False
    return True


def ensure_image(client: docker.DockerClient, image: str, on_line: OnLine) -> None:
    """Make sure ``image`` is on the engine: build the worker image, else raise naming the fix."""
    if has_image(client, image):
        return
    if image == WORKER_IMAGE:
        from headrace.workers.docker.build import build_worker_image

        with _building:  # parallel tasks of one run wait for one build
            if has_image(client, image):
                return
            on_line(f"the worker image {image} is not on the Docker engine: building it (headrace worker build-image)")
            build_worker_image(client, on_line)
        return
    raise ConfigError(
        f"the image {image} is not on the Docker engine: build or load it there first "
        f"(docker build -t {image} <folder> or docker load), or name an image the engine has"
    )


def build_image(
    client: docker.DockerClient,
    context_dir: Path,
    tag: str,
    on_line: OnLine,
    labels: dict[str, str] | None = None,
    buildargs: dict[str, str] | None = None,
) -> str:
    """Build ``context_dir``'s Dockerfile on the engine as ``tag``; returns the image id.

    The build uses the host network (a ``pip install`` in it reaches the index this
    machine reaches) and never pulls: a ``FROM`` must name an image the engine has.
    Build arguments are recorded in the image history: never pass a secret as one.
    """
    from docker.errors import APIError

    if not (context_dir / "Dockerfile").is_file():
        raise ConfigError(f"{context_dir}: no Dockerfile in the folder to build the image {tag} from")
    image_id = ""
    last: list[str] = []
    try:
        stream = client.api.build(
            path=str(context_dir),
            tag=tag,
            network_mode="host",
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            labels=labels or {},
            buildargs=buildargs or {},
        )
        for event in stream:
            if "error" in event:
                detail = str(event.get("error", "")).strip()
                tail = "\n".join(last[-10:])
                raise TaskFailed(f"building the image {tag} from {context_dir} failed: {detail}\n{tail}")
            text = str(event.get("stream") or event.get("status") or "")
            for line in text.splitlines():
                if line.strip():
                    last = [*last[-19:], line]
                    on_line(line)
            aux = event.get("aux")
            if isinstance(aux, dict) and aux.get("ID"):
                image_id = str(aux["ID"])
    except APIError as exc:
        raise TaskFailed(
            f"the Docker engine refused to build the image {tag} from {context_dir}: {exc.explanation}"
        ) from None
    return image_id or client.images.get(tag).id or ""
