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
def worker_image(docker_client: docker.DockerClient, base_image: str) -> str:
    """The worker image of this source tree, built once a session (its dependency layer is cached by the engine)."""
    from headrace.workers.docker import WORKER_IMAGE
    from headrace.workers.docker.build import build_worker_image

    lines: list[str] = []
    started = time.monotonic()
    try:
        build_worker_image(docker_client, lines.append)
    except Exception:
        print("\n".join(lines[-40:]))
        raise
    print(f"worker image built in {time.monotonic() - started:.1f} s")
    return WORKER_IMAGE
