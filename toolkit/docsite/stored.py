"""Columns of extracted tables as their newest ``schema.json`` in storage describes them.

For extractors that declare no columns (a PostgreSQL table or query): what the last extract
wrote, with portable types, even when the warehouse cannot be read. Storage that cannot be
opened, or a table never extracted, gives nothing for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headrace.project.manifest import ExtractorTask, Manifest
from headrace.tablefiles import SCHEMA_FILE

RUNS_TRIED = 3  # newest run folders looked at per table: an unfinished one has no schema.json yet


def stored_columns(manifest: Manifest, project_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> (column, portable type) of every extracted table found in storage."""
    try:
        storage = _open(manifest, project_dir)
    except Exception:  # storage unreachable or misconfigured: the site shows other sources of columns
        return {}
    found: dict[str, list[tuple[str, str]]] = {}
    for task in manifest.tasks.values():
        if not isinstance(task, ExtractorTask):
            continue
        for table in task.tables:
            try:
                runs = storage.folders(table.storage_prefix)
            except Exception:
                continue
            for run in reversed(runs[-RUNS_TRIED:]):  # run ids start with their UTC time: newest last
                try:
                    data = json.loads(storage.read_bytes(f"{table.storage_prefix}/{run}/{SCHEMA_FILE}"))
                except Exception:
                    continue
                found[f"{task.target_schema}.{table.name}"] = [
                    (str(c["name"]), str(c["type"])) for c in data["columns"]
                ]
                break
    return found


def _open(manifest: Manifest, project_dir: Path) -> Any:
    from headrace.paths import PROJECT_FILE, state_dir
    from headrace.resolve import resolved_config
    from headrace.secrets import SecretResolver
    from headrace.storage import open_storage

    secrets = SecretResolver(project_dir.resolve(), manifest.project.secrets)
    config = resolved_config("storage", manifest.project.storage, secrets, PROJECT_FILE, "storage")
    return open_storage(config, state_dir(project_dir))
