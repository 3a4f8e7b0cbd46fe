"""What a container component is given: the folder copied to ``/data`` before it starts.

``config.json`` (the component's ``config:``, never a secret), ``in/tables/<name>/`` (a
transformation's inputs, exported by the warehouse as table files) and an empty
``out/tables/`` for what it writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headrace.errors import TaskFailed
from headrace.project.manifest import TransformationInputRef
from headrace.warehouses.base import Warehouse

CONFIG_FILE = "config.json"


def stage(
    data: Path,
    config: dict[str, Any],
    inputs: list[TransformationInputRef],
    warehouse: Callable[[], Warehouse],
    log: Callable[[str], None],
) -> None:
    """Fill ``data`` (the future ``/data``); the warehouse is opened only when there are inputs."""
    (data / "out" / "tables").mkdir(parents=True, exist_ok=True)
    (data / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if not inputs:
        return
    with warehouse() as wh:  # closed before the container starts: DuckDB's file stays free meanwhile
        for item in inputs:
            schema, table = item.table.split(".")
            folder = data / "in" / "tables" / item.alias
            try:
                files = wh.export_table(schema, table, folder)
            except LookupError as exc:
                raise TaskFailed(f"input {item.table}: {exc}: run the task that produces it first") from None
            rows = "" if files.rows is None else f"{files.rows:,} rows, "
            log(f"input {item.table} -> /data/in/tables/{item.alias}/ ({rows}{len(files.parts)} part(s))")
