"""The site's data: every table of every stage, every component, the lineage and its layout.

Everything comes from the manifest (configs keep their ``${secret:...}`` references as written)
and, when given, the warehouse's ``Stats``. Every string passes ``redact`` on the way out, so a
value this process resolved can never reach the site.
"""

from __future__ import annotations

from typing import Any

from headrace.docsite.layout import compute
from headrace.docsite.stats import Stats
from headrace.lineage import Lineage
from headrace.lineage.graph import written
from headrace.lineage.sources import declared_columns
from headrace.project.manifest import DatamartTask, ExtractorTask, Manifest, TransformationTask

SITE_DATA_VERSION = 1


def site_data(manifest: Manifest, graph: Lineage, stats: Stats) -> dict[str, Any]:
    boxes, width, height, _, _ = compute(graph)
    data = {
        "version": SITE_DATA_VERSION,
        "project": {
            "name": manifest.project.name,
            "description": manifest.project.description,
            "commit": manifest.project.commit,
            "warehouse": manifest.project.warehouse,
            "storage": manifest.project.storage,
            "headrace_version": manifest.headrace_version,
        },
        "warehouse": {"live": stats.live, "note": stats.note},
        "tables": _tables(manifest, graph, stats),
        "components": [_component(task, stats) for task in manifest.tasks.values()],
        "orchestrations": [o.model_dump(mode="json") for o in manifest.orchestrations.values()],
        "lineage": graph.to_json(),
        "layout": {
            "width": width,
            "height": height,
            "nodes": {n: [b.x, b.y, b.w, b.h] for n, b in boxes.items() if n in graph.nodes},
        },
    }
    return _redacted(data)


def _tables(manifest: Manifest, graph: Lineage, stats: Stats) -> list[dict[str, Any]]:
    writer: dict[str, str] = {}
    readers: dict[str, list[str]] = {}
    declared: dict[str, list[tuple[str, str]]] = {}
    for task in manifest.tasks.values():
        for table in written(task):
            writer.setdefault(table, task.id)
        for table in task.reads:
            readers.setdefault(table, []).append(task.id)
        if isinstance(task, ExtractorTask):
            for name, cols in declared_columns(task).items():
                declared[f"{task.target_schema}.{name}"] = cols
    tables = []
    for node in graph.nodes.values():
        if node.kind != "table":
            continue
        table = node.id
        task = writer.get(table, "")
        upstream = graph.upstream_columns(table)
        columns = _columns(
            ("warehouse", stats.columns.get(table)),
            ("config", declared.get(table)),
            ("schema.json", stats.stored.get(table)),
            ("sql", [(c, "") for c in graph.columns.get(table, [])]),
        )
        for column in columns:
            column["from"] = upstream.get(column["name"], [])
        tables.append(
            {
                "id": table,
                "stage": node.stage,
                "schema": table.split(".", 1)[0],
                "name": table.split(".", 1)[1],
                "written_by": task,
                "read_by": readers.get(table, []),
                "columns": columns,
                "rows": stats.rows.get(table),
                "exists": table in stats.columns if stats.live else None,
                # freshness: the table's last committed load, else its writer's last successful run
                "fresh_at": stats.loaded_at.get(table) or stats.last_success.get(task) or None,
            }
        )
    order = {"in": 0, "out": 1, "dm": 2, "other": 3}
    return sorted(tables, key=lambda t: (order.get(t["stage"], 9), t["id"]))


def _columns(*candidates: tuple[str, list[tuple[str, str]] | None]) -> list[dict[str, Any]]:
    """The first known of: the warehouse's columns (when it was read), the extractor's declared
    ones, those of its newest stored schema.json, those lineage inferred from SQL."""
    for known_from, columns in candidates:
        if columns:
            return [{"name": n, "type": t, "known_from": known_from} for n, t in columns]
    return []


def _component(task: Any, stats: Stats) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": task.id,
        "kind": task.kind,
        "component": task.component,
        "type": task.type,
        "description": task.description,
        "source_file": task.source_file,
        "runs_on": task.runs_on,
        "reads": task.reads,
        "writes": task.writes,
        "last_run": stats.last_run.get(task.id),
        "last_success": stats.last_success.get(task.id),
    }
    if isinstance(task, ExtractorTask):
        item["config"] = task.config
        item["tables"] = [t.model_dump(mode="json") for t in task.tables]
    elif isinstance(task, TransformationTask):
        item["config"] = task.config
        item["inputs"] = [i.model_dump(mode="json") for i in task.inputs]
        item["outputs"] = task.outputs
        item["sql"] = [
            {"file": f.file, "assertion": f.assertion, "sql": "\n\n".join(s.sql for s in f.statements)}
            for f in task.sql
        ]
        if task.dbt is not None:
            item["dbt"] = {k: v for k, v in task.dbt.model_dump(mode="json").items() if k != "nodes"}
            item["sql"] += [
                {"file": n.unique_id, "assertion": n.resource_type == "test", "sql": n.sql}
                for n in task.dbt.nodes
                if n.sql
            ]
    elif isinstance(task, DatamartTask):
        item["config"] = {
            "materialization": task.materialization,
            "readers": task.readers,
            "tables": [t.model_dump(mode="json") for t in task.tables],
        }
    return item


def _redacted(value: Any) -> Any:
    from headrace.secrets import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value
