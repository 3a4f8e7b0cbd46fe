"""Container components run on the session's Docker engine (tests/emulators/dockerd.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def docker_host(docker_engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """``DOCKER_HOST`` of the session's engine, for this process and the ``headrace`` it starts, while
    a module's tests run: a project whose worker is ``local`` runs component images on that engine."""
    before = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = docker_engine.host
    yield docker_engine.host
    if before is None:
        os.environ.pop("DOCKER_HOST", None)
    else:
        os.environ["DOCKER_HOST"] = before
