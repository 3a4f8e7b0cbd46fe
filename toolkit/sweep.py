"""Remove what killed tasks left behind: at the start of every task, and by ``headrace cleanup``.

A SIGKILL gives a task no chance to clean up. What it can leave, and how a sweep tells it
from the work of a task running in parallel:

- working schemas ``tr_*`` and their roles, staging tables ``_hr_stage_*`` in the
  warehouse: see ``headrace.warehouses.common.leftovers`` (registrations with an owner
  process and an expiry);
- temporary extract folders ``STATE/tmp/<extractor>-<run>@<pid>-<start>``: left over when
  their owner process is gone, or untouched for longer than any task may run;
- unfinished uploads in storage (``*.incoming`` on local storage, a run folder without
  ``schema.json`` on an object store): left over when untouched for longer than any task
  may run.

Nothing here decides by a name alone that something in use may go: a live task's
working schema is registered before it exists and its files keep changing.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from headrace.lifecycle import host_id, owner_dead
from headrace.storage.base import Storage
from headrace.storage.local import newest_change
from headrace.warehouses.base import Warehouse
from headrace.workers.base import KILL_GRACE_S

MARGIN_S = 60
DESCRIBE = {
    "schema": "working schema {} (and its working role)",
    "registration": "working schema {} (what was left of it: its role or work files)",
    "table": "staging table {}",
}


def longest_life(timeouts: Iterable[int]) -> float:
    """Seconds after which no task can still be running: the longest timeout, the stop grace, a margin."""
    return max([0, *timeouts]) + 2 * KILL_GRACE_S + MARGIN_S


def temp_folder(state_dir: Path, component: str, run_id: str) -> Path:
    """A task's local extract folder; its name says which process owns it, and on which host.

    The host matters: tasks in containers (the ``docker`` worker) share the state folder with
    this machine and with each other, each in its own pid namespace, so a pid alone names a
    different process (or none) in every container: only the owner's own namespace
    (``lifecycle.host_id``) judges it.
    """
    import psutil

    host = host_id().replace("@", "_")
    owner = f"{os.getpid()}-{int(psutil.Process().create_time())}-{host}"
    return state_dir / "tmp" / f"{component}-{run_id}@{owner}"


def _folder_owner_dead(name: str) -> bool:
    """True when the folder's owner ran on this host and is gone (never for another host's folder)."""
    if "@" not in name:
        return False
    pid, _, rest = name.rpartition("@")[2].partition("-")
    start, _, host = rest.partition("-")
    return owner_dead(f"{host or host_id()}:{pid}:{start}")


def sweep_warehouse(wh: Warehouse, dry_run: bool = False) -> list[str]:
    """Drop the warehouse's leftovers; what was (or, with ``dry_run``, would be) removed."""
    done = []
    for kind, name in wh.leftovers(time.time(), owner_dead):
        if not dry_run:
            wh.remove_leftover(kind, name)
        done.append(DESCRIBE[kind].format(name))
    return done


def sweep_files(
    state_dir: Path, storage: Storage | None, prefixes: Iterable[str], max_age_s: float, dry_run: bool = False
) -> list[str]:
    """Remove leftover temporary extract folders and unfinished uploads under ``prefixes``."""
    before = time.time() - max_age_s
    done = []
    tmp = state_dir / "tmp"
    for folder in sorted(tmp.iterdir()) if tmp.is_dir() else []:
        if _folder_owner_dead(folder.name) or newest_change(folder) < before:
            if not dry_run:
                shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink(missing_ok=True)
            done.append(f"temporary extract folder {folder}")
    for prefix in prefixes if storage is not None else ():
        assert storage is not None
        for key in storage.stale_uploads(prefix, before):
            if not dry_run:
                storage.delete(key)
            done.append(f"unfinished upload {storage.url}/{key}")
    return done


def report(log: Callable[[str], None], removed: list[str]) -> None:
    for line in removed:
        log(f"removed what an earlier task left: {line}")
