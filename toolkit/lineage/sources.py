"""What an extractor reads, from its config as compiled: a source table, a query, a file or URL.

Configs keep their ``${secret:...}``/``${env:...}`` references: nothing here resolves one, so a
reference is shown as written and a secret's value never reaches the lineage.
"""

from __future__ import annotations

from typing import Any

from headrace.project.manifest import ExtractorTask

QUERY_LABEL_CHARS = 60


def describe(table: dict[str, Any]) -> tuple[str, str]:
    """(kind, label) of what one table config reads: ``table``, ``query``, ``file``, ``url`` or ``other``."""
    if table.get("source"):
        return "table", str(table["source"])
    if table.get("query"):
        text = " ".join(str(table["query"]).split())
        return "query", text if len(text) <= QUERY_LABEL_CHARS else text[: QUERY_LABEL_CHARS - 1] + "…"
    for key, kind in (("path", "file"), ("url", "url")):
        if table.get(key):
            member = f"!{table['member']}" if table.get("member") else ""
            return kind, f"{table[key]}{member}"
    for key in ("object", "endpoint", "resource", "name"):
        if table.get(key):
            return "other", str(table[key])
    return "other", "?"


def extractor_sources(task: ExtractorTask) -> dict[str, tuple[str, str]]:
    """Loaded table name -> (kind, label) of what the extractor reads for it."""
    if task.container is not None:
        return {t.name: ("container", task.container.image) for t in task.tables}
    configs = {str(t.get("name")): t for t in task.config.get("tables", []) if isinstance(t, dict)}
    return {t.name: describe(configs.get(t.name, {})) for t in task.tables}


def declared_columns(task: ExtractorTask) -> dict[str, list[tuple[str, str]]]:
    """Loaded table name -> (column, portable type) as the config declares them (file extractors)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table in task.config.get("tables", []):
        columns = table.get("columns") if isinstance(table, dict) else None
        # name -> type (file extractors); a PostgreSQL table's ``columns: {exclude: [...]}`` is no declaration
        if isinstance(columns, dict) and columns and all(isinstance(v, str) for v in columns.values()):
            found[str(table.get("name"))] = [(str(k), str(v)) for k, v in columns.items()]
    return found
