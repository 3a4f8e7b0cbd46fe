"""A task's environment through its stdin: the values never sit in a container's configuration.

A Docker engine keeps the environment a container is created with in its configuration on
disk (``config.v2.json`` while the container exists, and containerd's metadata database,
whose freed pages keep the bytes after the container is removed: measured, docs/workers.md).
So a worker that runs ``headrace run-task`` in a container creates it with only
``HEADRACE_ENV_STDIN=1`` and writes the task's environment (secrets, the mask channel key,
settings) as one JSON line to its stdin; the task reads it before anything else.
"""

from __future__ import annotations

import json
import os
import sys

HANDOFF_ENV = "HEADRACE_ENV_STDIN"


def encode(env: dict[str, str]) -> bytes:
    return (json.dumps(env, separators=(",", ":")) + "\n").encode("utf-8")


def receive() -> None:
    """With ``HEADRACE_ENV_STDIN=1``: read one JSON line of ``{name: value}`` from stdin into the environment."""
    if os.environ.pop(HANDOFF_ENV, None) != "1":
        return
    line = sys.stdin.readline()
    try:
        values = json.loads(line) if line.strip() else {}
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        from headrace.errors import ConfigError

        raise ConfigError(f"{HANDOFF_ENV}=1 but stdin did not start with a JSON line of name: value pairs")
    os.environ.update(values)
