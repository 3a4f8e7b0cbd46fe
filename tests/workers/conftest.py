"""Fixtures of the worker tests: a client of the session's Docker engine and the worker image built on it once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import docker


@pytest.fixture(scope="session")
def docker_client(docker_engine) -> Iterator[docker.DockerClient]:  # type: ignore[no-untyped-def]
    from headrace.workers.docker.engine import connect

    client = connect(docker_engine.host)
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    """Debian bookworm minbase with python3 (debootstrap, cached; imported once per data root)."""
    from headrace.workers.docker.build import BASE_IMAGE, ensure_base

    ensure_base(docker_client, lambda line: None)
    return BASE_IMAGE


@pytest.fixture(scope="session")
def worker_image(docker_engine, base_image: str) -> str:  # type: ignore[no-untyped-def]
    """The worker image of this source tree, built once a session with ``headrace worker build-image``
    (the engine keeps the dependency layer between sessions: only the wheel's layer is rebuilt)."""
    from headrace.workers.docker import WORKER_IMAGE

    from tests.helpers import headrace

    started = time.monotonic()
    done = headrace("worker", "build-image", "--docker-host", docker_engine.host, timeout=1800)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    assert f"built {WORKER_IMAGE}" in done.stdout
    print(f"worker image built in {time.monotonic() - started:.1f} s")
    import docker

    client = docker.DockerClient(base_url=docker_engine.host)
    client.images.prune(filters={"dangling": True})  # earlier sessions' builds: the data root stays small
    client.close()
    return WORKER_IMAGE
