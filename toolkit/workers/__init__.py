"""Where a task's process runs: one plugin per worker (local subprocess; containers and VMs later)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.secrets import SecretResolver
    from headrace.workers.base import Worker


def open_worker(name: str, project_worker: dict[str, Any], secrets: SecretResolver) -> Worker:
    """A new worker of plugin ``name`` (a task's ``runs_on``).

    The project's ``worker:`` block configures it when it names the same plugin; other
    workers (``local`` for tasks that run inside the warehouse) take their defaults.
    """
    from headrace import plugins
    from headrace.paths import PROJECT_FILE
    from headrace.resolve import resolved_config

    raw = project_worker if project_worker.get("type") == name else {"type": name}
    config = resolved_config("worker", raw, secrets, PROJECT_FILE, "worker")
    return plugins.get("worker", name).load()(config)
