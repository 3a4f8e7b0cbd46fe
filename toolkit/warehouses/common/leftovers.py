"""What killed tasks leave in a SQL warehouse, and how a sweep tells it from a live task's work.

A transformation registers its working schema in ``headrace_meta.working_schemas`` with
its owner (host, pid and start time of the task process) and an expiry (its timeout plus
the stop grace, past which no live task can still use it) *before* creating it, and
unregisters it after dropping it. A registration is dead when it expired, or when its
owner ran on this host and that process is gone. A sweep therefore drops:

- ``schema`` leftovers: ``tr_*`` schemas that are not registered, or whose registration
  is dead (the working role goes with the schema, through ``drop_working_role``);
- ``registration`` leftovers: dead registrations whose schema is not in the warehouse (the
  task died between dropping its schema and its role, or before creating them, or the
  warehouse runs transformations outside it, as DuckDB does in a work file):
  ``drop_schema`` removes whatever of that name is left (role, work files);
- ``table`` leftovers: committed ``_hr_stage_*`` tables. A load or publish builds its
  staging table inside its own transaction, so a live one is invisible to other sessions;
  a visible one can only be left over (PostgreSQL's parallel loads commit theirs, in
  ``headrace_stage``: that warehouse leaves alone the stages a live load holds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from headrace.warehouses.base import META

if TYPE_CHECKING:
    from headrace.warehouses.common.sqlwarehouse import SqlWarehouse

WORK_PREFIX = "tr_"
STAGE_PREFIX = "_hr_stage_"


def register(wh: SqlWarehouse, schema: str, run_id: str, task_id: str, owner: str, expires_at: float) -> None:
    p = wh.param
    wh.run(
        f"INSERT INTO {META}.working_schemas VALUES ({p}, {p}, {p}, {p}, now(), to_timestamp({p})) "
        "ON CONFLICT (schema_name) DO UPDATE SET run_id = EXCLUDED.run_id, task_id = EXCLUDED.task_id, "
        "owner = EXCLUDED.owner, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at",
        (schema, run_id, task_id, owner, expires_at),
    )


def find(wh: SqlWarehouse, now: float, owner_dead: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(kind, name) of every leftover: ``schema``, ``registration`` and ``table`` (``schema.table``)."""
    p = wh.param
    n = len(WORK_PREFIX)
    schemas = {
        name
        for (name,) in wh.run(
            f"SELECT schema_name FROM information_schema.schemata WHERE left(schema_name, {n}) = {p}", (WORK_PREFIX,)
        ).fetchall()
    }
    rows = wh.run(
        f"SELECT schema_name, expires_at < to_timestamp({p}), owner FROM {META}.working_schemas", (now,)
    ).fetchall()
    registered = {name: bool(expired) or owner_dead(owner or "") for name, expired, owner in rows}
    found = [("schema", s) for s in sorted(schemas) if registered.get(s, True)]
    found += [("registration", s) for s, expired in sorted(registered.items()) if expired and s not in schemas]
    n = len(STAGE_PREFIX)
    tables = wh.run(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE left(table_name, {n}) = {p} AND table_type = 'BASE TABLE'",
        (STAGE_PREFIX,),
    ).fetchall()
    found += [("table", f"{schema}.{table}") for schema, table in sorted(tables) if schema != META]
    return found


def remove(wh: SqlWarehouse, kind: str, name: str) -> None:
    if kind in ("schema", "registration"):  # the schema, its role, its work files: whatever is left of each
        wh.drop_schema(name)
    elif kind == "table":
        schema, table = name.split(".", 1)
        wh.run(f"DROP TABLE IF EXISTS {wh.qualified(schema, table)}")
    if kind in ("schema", "registration"):
        wh.run(f"DELETE FROM {META}.working_schemas WHERE schema_name = {wh.param}", (name,))
