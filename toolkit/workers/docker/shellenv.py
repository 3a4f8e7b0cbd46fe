"""A component's environment through its stdin, read by the image's own ``/bin/sh``.

A component image (``type: container``) follows the contract of docs/components.md: it
finds its ``env:`` (secrets included) as environment variables. Given at container create,
those values would stay in the engine's files (``config.v2.json``, and containerd's
metadata database even after the container is removed: docs/workers.md). So, when the
image has ``/bin/sh``, the container starts a tiny POSIX shell wrapper instead: it reads
``export NAME='value'`` lines from stdin, evaluates them and ``exec``s the image's own
entrypoint and command, which then see the variables as usual. An image without a shell
gets its environment at create, and the task log says so.
"""

from __future__ import annotations

import re

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SHELL = "/bin/sh"
# reads all of stdin (values may span lines), evaluates it, replaces itself with "$@"
WRAPPER = (
    'env_in=\nwhile IFS= read -r line || [ -n "$line" ]; do env_in="$env_in$line\n"\ndone\neval "$env_in"\nexec "$@"\n'
)


def wrapped(entrypoint: list[str], command: list[str]) -> tuple[list[str], list[str]]:
    """The container's entrypoint and command: the wrapper, then the image's own entrypoint + command."""
    return [SHELL, "-c", WRAPPER, "headrace-env"], [*entrypoint, *command]


def exports(env: dict[str, str]) -> bytes:
    """``export NAME='value'`` lines for the wrapper; a name that is not a variable name is refused."""
    lines = []
    for name, value in env.items():
        if not NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not an environment variable name: use letters, digits and _")
        if "\0" in value:
            raise ValueError(f"the value of {name} holds a NUL byte, which no environment variable can")
        quoted = "'" + value.replace("'", "'\\''") + "'"
        lines.append(f"export {name}={quoted}\n")
    return "".join(lines).encode("utf-8")
