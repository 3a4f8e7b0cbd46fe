"""Live facts from the warehouse: columns (information_schema), row counts, and freshness from
``headrace_meta`` (``table_loads.loaded_at`` of extracted tables, the last successful
``task_runs`` row of the task writing a table).

A warehouse that cannot be read (a DuckDB file another process is writing, a PostgreSQL
server that is down) gives ``Stats(live=False, note=...)``: the site is built without live
facts and says why. DuckDB is opened read-only and never waited for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headrace.project.manifest import Manifest
from headrace.sqltext import literal, qualified
from headrace.warehouses.base import META

Query = Callable[[str], list[tuple[Any, ...]]]


@dataclass
class Stats:
    live: bool = False
    note: str = ""
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # schema.table -> (name, type)
    rows: dict[str, int] = field(default_factory=dict)
    loaded_at: dict[str, str] = field(default_factory=dict)  # schema.table -> last committed load
    last_success: dict[str, str] = field(default_factory=dict)  # task id -> end of its last successful run
    last_run: dict[str, dict[str, Any]] = field(default_factory=dict)  # task id -> status, ended_at, error
    stored: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # extracted tables' schema.json


def read_stats(manifest: Manifest, project_dir: Path, tables: Iterable[str]) -> Stats:
    """What the warehouse says of ``tables`` (schema.table); never raises."""
    from headrace.secrets import redact

    try:
        with _connection(manifest, project_dir) as query:
            return _collect(query, manifest.project.warehouse.get("type", ""), sorted(set(tables)))
    except Exception as exc:  # a site without live facts, not a failure
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Stats(
            note=f"the {manifest.project.warehouse.get('type', '')} warehouse could not be read: {redact(first)}"
        )


class _connection:
    """A query function over the project's warehouse; DuckDB read-only without waiting for its lock."""

    def __init__(self, manifest: Manifest, project_dir: Path):
        self.manifest, self.project_dir, self.closer = manifest, project_dir, None

    def __enter__(self) -> Query:
        from headrace.paths import PROJECT_FILE, state_dir
        from headrace.resolve import resolved_config
        from headrace.secrets import SecretResolver

        secrets = SecretResolver(self.project_dir.resolve(), self.manifest.project.secrets)
        config: Any = resolved_config("warehouse", self.manifest.project.warehouse, secrets, PROJECT_FILE, "warehouse")
        if config.type == "duckdb":
            import duckdb

            path = Path(config.path)
            path = path if path.is_absolute() else state_dir(self.project_dir) / path
            if not path.is_file():
                raise FileNotFoundError(f"{path} does not exist yet: run `headrace run` to load data")
            con = duckdb.connect(str(path), read_only=True)
            self.closer = con.close
            return lambda sql: [tuple(r) for r in con.execute(sql).fetchall()]
        from headrace.warehouses import open_warehouse

        wh = open_warehouse(config, state_dir(self.project_dir))
        self.closer = wh.close
        return lambda sql: wh.query(sql)[1]

    def __exit__(self, *exc: object) -> None:
        if self.closer is not None:
            self.closer()


def _collect(query: Query, dialect: str, tables: list[str]) -> Stats:
    stats = Stats(live=True)
    schemas = sorted({t.split(".", 1)[0] for t in tables})
    if schemas:
        names = ", ".join(literal(s, dialect) for s in schemas)
        sql = (
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema IN ({names}) ORDER BY table_schema, table_name, ordinal_position"
        )
        for schema, table, column, kind in query(sql):
            if not str(column).startswith("_headrace_"):
                stats.columns.setdefault(f"{schema}.{table}", []).append((str(column), str(kind).lower()))
    for table in tables:
        if table in stats.columns:
            schema, name = table.split(".", 1)
            stats.rows[table] = int(query(f"SELECT count(*) FROM {qualified(schema, name, dialect)}")[0][0])
    if not _has_meta(query, dialect):
        stats.note = "no run history yet (headrace_meta is empty)"
        return stats
    for table, loaded in query(f"SELECT table_name, max(loaded_at) FROM {META}.table_loads GROUP BY table_name"):
        stats.loaded_at[str(table)] = _iso(loaded)
    for task, ended in query(
        f"SELECT task_id, max(ended_at) FROM {META}.task_runs WHERE status = 'success' GROUP BY task_id"
    ):
        stats.last_success[str(task)] = _iso(ended)
    latest = (
        f"SELECT t.task_id, t.status, t.ended_at, t.error FROM {META}.task_runs t JOIN "
        f"(SELECT task_id, max(started_at) AS s FROM {META}.task_runs GROUP BY task_id) m "
        "ON m.task_id = t.task_id AND m.s = t.started_at"
    )
    from headrace.secrets import redact

    for task, status, ended, error in query(latest):
        stats.last_run[str(task)] = {
            "status": status,
            "ended_at": _iso(ended),
            "error": redact(error) if error else None,
        }
    return stats


def _has_meta(query: Query, dialect: str) -> bool:
    sql = (
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
        f"{literal(META, dialect)} AND table_name IN ('table_loads', 'task_runs')"
    )
    return int(query(sql)[0][0]) == 2


def _iso(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
