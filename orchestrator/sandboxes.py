"""The sandbox DAGs (docs/sandboxes.md): ``headrace_sandbox``, triggered by hand with parameters to
create, run or drop an analyst's sandbox, and ``headrace_sandbox_sweeper``, which drops idle ones.

Both run ``headrace sandbox ...`` on this machine (where the secret store's local file is). The
task log shows how to connect without the password: it is in the secret store, and
``headrace sandbox credentials`` shows it to whoever may read that store.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from headrace.errors import ConfigError
from headrace.orchestrator import settings

if TYPE_CHECKING:
    from headrace.project.manifest import Manifest

ACTIONS = ("create", "run", "drop")
# as headrace.sandboxes.actions.USER (not imported: the DAG file imports no warehouse code)
USER_PATTERN = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
USER_MAX = 32
DEFAULT_SCHEDULE = "@hourly"


def sandbox_transformations(manifest: Manifest) -> list[str]:
    """The transformations a sandbox can be made of: all of them, when the warehouse has sandboxes
    (its capabilities record; no SDK imported), else none."""
    from headrace import plugins

    kind = str(manifest.project.warehouse.get("type") or "duckdb")
    try:
        capabilities = plugins.get("warehouse", kind).capabilities
    except ConfigError:
        return []  # an unknown warehouse: its tasks fail with the registry's message
    if not getattr(capabilities, "sandboxes", False):
        return []
    return sorted(t.component for t in manifest.tasks.values() if t.id.startswith("transformation:"))


def sweep_schedule(environ: Mapping[str, str] = os.environ) -> str | None:
    """Cron of ``headrace_sandbox_sweeper``: ``HEADRACE_SANDBOX_SWEEP_SCHEDULE`` (``none``: by hand only)."""
    value = environ.get("HEADRACE_SANDBOX_SWEEP_SCHEDULE", DEFAULT_SCHEDULE).strip()
    return None if value.lower() in ("", "none", "manual", "off") else value


def command(project_dir: Path, action: str, transformation: str | None = None, user: str | None = None) -> list[str]:
    """``headrace sandbox <action> ...`` with this interpreter, on the deployed manifest; a create
    prints no password (the task log is no place for it)."""
    args = [sys.executable, "-m", "headrace", "sandbox", action]
    if action != "sweep":
        if action not in ACTIONS:
            raise ConfigError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
        if not transformation or not user or len(user) > USER_MAX or not re.fullmatch(USER_PATTERN, user):
            raise ConfigError(
                f"a sandbox needs a transformation and a user name (lowercase words joined by single "
                f"underscores, at most {USER_MAX} characters); got {transformation!r} and {user!r}"
            )
        args += [transformation, "--user", user]
    args += ["--project", str(project_dir), "--manifest", str(project_dir / settings.MANIFEST_RELPATH)]
    return args + (["--no-password"] if action == "create" else [])
