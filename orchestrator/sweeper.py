"""The worker sweeper: what ``headrace_worker_sweeper`` runs, and when a project has one.

Workers that run images leave things behind when the Airflow task that started them is
killed (containers, a VM that nobody stops, leases that expire). ``headrace worker sweep``
removes expired containers and stops an idle worker VM; the sweeper DAG runs it on this
machine on a schedule (``HEADRACE_SWEEP_SCHEDULE``), never on the worker VM itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from headrace.errors import ConfigError

if TYPE_CHECKING:
    from headrace.project.manifest import Manifest


def worker_types(manifest: Manifest) -> set[str]:
    """The worker plugins the project uses: the ``worker:`` block's, every task's, and the one that runs a
    ``type: container`` component's image (its task itself runs locally)."""
    found = {str(manifest.project.worker.get("type") or "local")}
    for task in manifest.tasks.values():
        found.add(task.runs_on)
        container = getattr(task, "container", None)
        if container is not None:
            found.add(str(container.worker))
    return found


def needs_sweeper(manifest: Manifest) -> bool:
    """True when a worker of the project runs images (its capabilities record; no SDK imported)."""
    from headrace import plugins

    for name in sorted(worker_types(manifest)):
        try:
            capabilities = plugins.get("worker", name).capabilities
        except ConfigError:
            continue  # an unknown worker: its tasks fail with the registry's message
        if getattr(capabilities, "runs_images", False):
            return True
    return False


def sweep_command(project_dir: Path) -> list[str]:
    """``headrace worker sweep --project <dir>`` with this interpreter."""
    return [sys.executable, "-m", "headrace", "worker", "sweep", "--project", str(project_dir)]
