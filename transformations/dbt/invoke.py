"""One dbt command in dbt's own environment, as a child process that sees only what it needs.

dbt's ``env_var()`` reads any variable of its environment, so the process gets a fresh one: a
PATH, a HOME in its work folder, dbt's own settings and the profile's secrets, nothing of
Headrace's (no warehouse password, no secrets backend). Its lines are streamed to ``log``,
redacted; a stop of the task stops dbt.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from headrace import lifecycle
from headrace.redaction import redact
from headrace.transformations.dbt.profiles import PROFILE, TARGET

TAIL_LINES = 12


def dbt_env(work: Path, secrets: dict[str, str]) -> dict[str, str]:
    return {
        "PATH": os.defpath,
        "HOME": str(work),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DBT_USE_COLORS": "false",
        "DBT_PARTIAL_PARSE": "false",
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        **secrets,
    }


def invoke(
    python: Path,
    args: list[str],
    project: Path,
    work: Path,
    secrets: dict[str, str],
    log: Callable[[str], None],
    tail: list[str] | None = None,
) -> int:
    """Run ``dbt <args>`` on ``project`` with ``work/profiles.yml``; dbt's exit code (0 ok, 1 failures, 2 error).
    ``tail`` receives dbt's last lines (redacted), for the task's error."""
    # dbt's own entry point (``python -m dbt.cli.main`` warns that the module was imported twice)
    cmd = [str(python), "-c", "from dbt.cli.main import cli; cli()", *args, "--project-dir", str(project)]
    if args[0] != "deps":
        cmd += ["--profiles-dir", str(work), "--profile", PROFILE, "--target", TARGET]
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=dbt_env(work, secrets),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )

    def stop(_: float) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)

    lifecycle.on_stop(stop)
    assert proc.stdout is not None
    for line in proc.stdout:
        text = redact(line.rstrip("\n"))
        log(text)
        if tail is not None:
            tail.append(text)
            del tail[:-TAIL_LINES]
    return proc.wait()
