"""Connecting to a Docker engine: this machine's, or one over ``ssh://`` / ``tcp://``.

An engine that does not answer is a ``TransientError`` (the task is retried later): a
worker VM still booting, a restarting daemon.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from headrace.errors import TransientError

if TYPE_CHECKING:
    import docker

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
TIMEOUT_S = 60  # one API call; log streams and waits are not bound by it


def engine_url(docker_host: str | None) -> str | None:
    """The configured engine, else ``DOCKER_HOST``, else None (the SDK's default local socket)."""
    return docker_host or os.environ.get("DOCKER_HOST") or None


def is_local(docker_host: str | None) -> bool:
    """Whether the engine runs on this machine (its containers can bind-mount this machine's folders)."""
    url = engine_url(docker_host)
    if url is None:
        return True
    parsed = urlparse(url)
    return parsed.scheme in ("unix", "npipe", "") or (parsed.scheme == "tcp" and parsed.hostname in LOCAL_HOSTS)


def connect(docker_host: str | None) -> docker.DockerClient:
    """A client for the engine that answered a ping; ``TransientError`` naming it when it does not."""
    import docker
    from docker.errors import DockerException

    url = engine_url(docker_host)
    where = url or "the local socket (unix:///var/run/docker.sock)"
    try:
        client = docker.DockerClient(base_url=url, timeout=TIMEOUT_S) if url else docker.from_env(timeout=TIMEOUT_S)
        client.ping()
    except (DockerException, OSError) as exc:
        raise TransientError(
            f"the Docker engine at {where} does not answer ({type(exc).__name__}: {str(exc)[:300]}): "
            "start it, or set worker: docker_host (or DOCKER_HOST) to one that runs"
        ) from None
    return client
