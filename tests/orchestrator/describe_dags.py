"""Load a dags folder into Airflow's DagBag and print a JSON description of every DAG.

Run in a fresh interpreter (as the DAG processor does): ``python describe_dags.py DAGS_FOLDER``.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def describe(dag: Any) -> dict[str, Any]:
    tasks = {}
    for task in dag.tasks:
        entry = {
            "operator": type(task).__name__,
            "upstream": sorted(task.upstream_task_ids),
            "trigger_rule": str(task.trigger_rule.value if hasattr(task.trigger_rule, "value") else task.trigger_rule),
            "retries": task.retries,
            "retry_delay_s": task.retry_delay.total_seconds() if task.retry_delay else None,
            "retry_exponential_backoff": bool(task.retry_exponential_backoff),
            "execution_timeout_s": task.execution_timeout.total_seconds() if task.execution_timeout else None,
            "pool": task.pool,
            "pool_slots": task.pool_slots,
        }
        for attr in ("headrace_task", "project_dir", "worker_type", "worker_timeout_s"):
            if hasattr(task, attr):
                entry[attr] = getattr(task, attr)
        tasks[task.task_id] = entry
    return {
        "schedule": dag.schedule if isinstance(dag.schedule, str) or dag.schedule is None else str(dag.schedule),
        "description": dag.description,
        "doc_md": dag.doc_md,
        "tags": sorted(dag.tags),
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "params": {key: dag.params[key] for key in dag.params},
        "tasks": tasks,
    }


def main(folder: str) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder)
    print(
        json.dumps(
            {"import_errors": bag.import_errors, "dags": {i: describe(d) for i, d in sorted(bag.dags.items())}},
            default=str,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
