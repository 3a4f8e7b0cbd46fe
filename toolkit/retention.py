"""Raw run folders in storage are kept by ``retention.keep_runs`` (project.yaml, default 3).

After a table loads, its folders under ``raw/<extractor>/<table>/`` are pruned: the
folders of its last ``keep_runs`` successful loads (``headrace_meta.table_loads``) and the
current run's stay; a folder goes when its load succeeded longer ago, or when its run
ended without loading it (a ``headrace_meta.task_runs`` row of the task). A folder of a
run that never ended stays: it may belong to a run still in progress (two runs of one
extractor at once under Airflow). Loads read only their own run's folder, and incremental
cursors live in ``headrace_meta.state``, so no later load depends on an older folder.
"""

from __future__ import annotations

from headrace.storage.base import Storage
from headrace.warehouses.base import Warehouse


def prune(
    storage: Storage,
    wh: Warehouse,
    prefix: str,
    table_name: str,
    task_id: str,
    run_id: str,
    keep_runs: int,
    dry_run: bool = False,
) -> list[str]:
    """Delete the run folders under ``prefix`` that retention lets go (``run_id``'s stays); their keys."""
    folders = storage.folders(prefix)
    if len(folders) <= keep_runs:
        return []
    loaded = wh.table_load_runs(table_name)
    kept = {run_id, *loaded[:keep_runs]}
    ended = set(loaded) | wh.task_run_ids(task_id)
    removed = []
    for folder in folders:
        if folder not in kept and folder in ended:
            if not dry_run:
                storage.delete(f"{prefix}/{folder}")
            removed.append(f"{prefix}/{folder}")
    return removed
