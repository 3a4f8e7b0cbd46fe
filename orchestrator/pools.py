"""Airflow pools that keep a component from running twice at once.

Every task of the project runs in a pool of one slot: its component's own pool
(``headrace_<dag id>``), so an orchestration and the component's on-demand DAG take turns;
or, with a single-writer warehouse (DuckDB: one writer at a time, its file lock), one pool
for every task of the project, so tasks queue in Airflow instead of waiting on the lock.

Airflow 3 task processes cannot reach the metadata database (the task supervisor points
``sql_alchemy_conn`` at ``airflow-db-not-allowed:///``, so the ``airflow pools`` CLI fails
there too). Pools are therefore kept through the REST API (``/api/v2/pools``), signed in as
the simple auth manager's admin (``airflowauth``): by ``project_update`` on every run (new
components' pools before their DAGs appear, reset slots, removed components' pools once
nothing runs in them) and by the local supervisor before the scheduler starts.

A task whose pool is missing would wait in ``scheduled`` for ever, so pools are created
before the DAGs that use them can be parsed, and every ``project_update`` re-creates a pool
deleted by hand.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headrace.errors import ConfigError, HeadraceError
from headrace.orchestrator.naming import POOL_PREFIX, WAREHOUSE_POOL, component_pool

if TYPE_CHECKING:
    from headrace.orchestrator.api import AirflowApi
    from headrace.project.manifest import Manifest

Log = Callable[[str], None]
MANAGED = "(kept by Headrace's project_update)"  # in the description of every pool Headrace may change or delete
PAGE = 100
# a pool in which any of these is not zero still holds a task: it is not deleted
BUSY = ("occupied_slots", "running_slots", "queued_slots", "scheduled_slots", "deferred_slots")


class PoolSyncError(HeadraceError):
    """Airflow's pools could not be created or updated: tasks of the components named wait for them."""


def single_writer(manifest: Manifest) -> bool:
    """Whether the project's warehouse takes one writer at a time (its capability, no driver imported)."""
    from headrace import plugins

    try:
        return bool(plugins.get("warehouse", manifest.project.warehouse["type"]).capabilities.single_writer)
    except (ConfigError, KeyError, AttributeError):
        return False  # an unknown warehouse: its tasks fail with the plugin's own message


def task_pool(task_id: str, one_writer: bool) -> str:
    """The pool a task of the manifest runs in."""
    return WAREHOUSE_POOL if one_writer else component_pool(task_id)


def wanted(manifest: Manifest) -> dict[str, str]:
    """Every pool the project's DAGs use, with its description (each has one slot)."""
    if single_writer(manifest):
        kind = manifest.project.warehouse.get("type", "the warehouse")
        return {WAREHOUSE_POOL: f"One task at a time: the {kind} warehouse takes one writer {MANAGED}"}
    return {component_pool(t): f"One run at a time of {t} {MANAGED}" for t in manifest.tasks}


def managed(pool: Mapping[str, Any]) -> bool:
    return str(pool.get("name", "")).startswith(POOL_PREFIX) and MANAGED in str(pool.get("description") or "")


@dataclass
class SyncPlan:
    """What a sync changes: pools to create or reset to one slot, to delete, and to keep for now."""

    create: list[str] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # no longer used, but a task still holds or waits for it

    def summary(self) -> str:
        parts = [f"{len(names)} {what}" for what, names in self.__dict__.items() if names]
        return "pools: " + (", ".join(parts) if parts else "in sync")


def plan(want: Mapping[str, str], existing: Iterable[Mapping[str, Any]], remove: bool) -> SyncPlan:
    """Compare the pools Airflow has with those wanted. A pool of someone else is never touched."""
    result = SyncPlan()
    have = {str(p["name"]): p for p in existing}
    for name, description in want.items():
        pool = have.get(name)
        if pool is None:
            result.create.append(name)
        elif pool.get("slots") != 1 or pool.get("description") != description:
            result.reset.append(name)
    if remove:
        for name, pool in have.items():
            if name in want or not managed(pool):
                continue
            (result.busy if any(pool.get(k) for k in BUSY) else result.delete).append(name)
    return result


def existing_pools(api: AirflowApi) -> list[dict[str, Any]]:
    pools: list[dict[str, Any]] = []
    while True:
        page = api.call("GET", f"/api/v2/pools?limit={PAGE}&offset={len(pools)}&order_by=id")
        pools += page["pools"]
        if not page["pools"] or len(pools) >= page["total_entries"]:
            return pools


def apply(api: AirflowApi, want: Mapping[str, str], changes: SyncPlan) -> None:
    """One bulk request; Airflow reports failures per pool in its answer, raised here."""
    actions: list[dict[str, Any]] = []
    upsert = changes.create + changes.reset
    if upsert:
        entities = [{"name": n, "slots": 1, "description": want[n], "include_deferred": False} for n in upsert]
        actions.append({"action": "create", "entities": entities, "action_on_existence": "overwrite"})
    if changes.delete:
        actions.append({"action": "delete", "entities": changes.delete, "action_on_non_existence": "skip"})
    if not actions:
        return
    answer = api.call("PATCH", "/api/v2/pools", {"actions": actions}) or {}
    errors = [e for part in answer.values() if isinstance(part, dict) for e in part.get("errors") or []]
    if errors:
        raise PoolSyncError(f"Airflow refused to change its pools: {errors[:3]}")


def sync(api: AirflowApi, manifest: Manifest, remove: bool, log: Log) -> SyncPlan:
    """Create the pools ``manifest`` uses and reset their slots; with ``remove``, delete idle ones it no longer uses."""
    from headrace.orchestrator.api import ApiError

    want = wanted(manifest)
    try:
        changes = plan(want, existing_pools(api), remove)
        apply(api, want, changes)
    except (ApiError, OSError) as exc:
        raise PoolSyncError(
            f"could not keep Airflow's pools in sync ({exc}): tasks wait while their pool is missing; "
            "fix the cause and run project_update again"
        ) from None
    for name in changes.busy:
        log(f"pool {name} is no longer used; it still holds a task and is deleted by a later project_update")
    log(changes.summary())
    return changes


class PoolKeeper:
    """What ``update_project`` calls around the switch to a new version: ``ensure`` before, ``prune`` after."""

    def __init__(self, api: AirflowApi, log: Log) -> None:
        self.api = api
        self.log = log

    def ensure(self, manifest_path: Path) -> None:
        from headrace.project.manifest import read_manifest

        sync(self.api, read_manifest(manifest_path), remove=False, log=self.log)

    def prune(self, manifest_path: Path) -> None:
        """Delete pools no component uses any more; a failure here only leaves an extra pool."""
        from headrace.project.manifest import read_manifest

        try:
            sync(self.api, read_manifest(manifest_path), remove=True, log=self.log)
        except PoolSyncError as exc:
            self.log(f"warning: {exc}")


def keeper_for_environment(environ: Mapping[str, str], log: Log) -> PoolKeeper | None:
    """A ``PoolKeeper`` for this machine's Airflow; None (said in the log) when its API does not answer.

    ``update-project`` also runs before Airflow is up (``headrace airflow up`` deploys
    first, a cloud VM's bootstrap too): then the supervisor, or the next ``project_update``,
    creates the pools before any task can need them.
    """
    from headrace.orchestrator.airflowauth import api_from_environment, api_url
    from headrace.orchestrator.api import AirflowApi, ApiError

    url = api_url(environ)
    try:
        AirflowApi(url).health()
    except ApiError:
        pass  # it answered
    except urllib.error.URLError as exc:
        if not isinstance(exc.reason, ConnectionRefusedError):
            raise PoolSyncError(f"cannot reach Airflow's API at {url} to keep its pools: {exc.reason}") from None
        log(f"Airflow's API at {url} does not answer: pools are synced when Airflow starts or at the next update")
        return None
    except OSError as exc:  # e.g. a timeout: Airflow runs but did not answer in time
        raise PoolSyncError(f"cannot reach Airflow's API at {url} to keep its pools: {exc}") from None
    try:
        return PoolKeeper(api_from_environment(environ), log)
    except ConfigError as exc:
        raise PoolSyncError(f"cannot keep Airflow's pools: {exc}") from None


def sync_from_environment(environ: Mapping[str, str], log: Log) -> SyncPlan | None:
    """Sync the pools of the deployed project (the local supervisor, before the scheduler starts)."""
    from headrace.orchestrator.airflowauth import api_from_environment
    from headrace.orchestrator.settings import locate_manifest
    from headrace.project.manifest import read_manifest

    location = locate_manifest(environ)
    if not location.manifest.is_file():
        log("no project deployed yet: its pools are made by the project_update that deploys it")
        return None
    try:
        api = api_from_environment(environ)
    except ConfigError as exc:
        raise PoolSyncError(f"cannot keep Airflow's pools: {exc}") from None
    return sync(api, read_manifest(location.manifest), remove=True, log=log)
