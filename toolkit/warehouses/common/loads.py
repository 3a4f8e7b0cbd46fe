"""Loads, the same on every SQL warehouse; all of a load is one transaction:

- ``full`` (and the first load of any table): the parts go into a staging table, which then
  replaces the table (``swap``): readers see the old table or the new one, a failed or
  killed load leaves the old one;
- ``append`` and ``incremental`` without a key: the parts go into a temporary batch table,
  then one ``INSERT`` adds it to the table in arrival order;
- ``upsert`` and ``incremental`` with a key: the batch is deduplicated (the last row per key
  wins) and merged on the key (``MERGE``, or ``UPDATE`` + ``INSERT`` without the ``merge``
  capability); a row whose values did not change is left alone, so re-running a batch
  changes nothing.

The incremental cursor (``state``) and the ``headrace_meta.table_loads`` row commit with the
data. Every row gets ``_headrace_loaded_at`` (the transaction's time) and ``_headrace_run_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from headrace import faults
from headrace.errors import TaskFailed
from headrace.storage.base import Storage
from headrace.warehouses.base import LOADED_AT, META, RUN_ID, LoadRequest
from headrace.warehouses.capabilities import Capabilities

if TYPE_CHECKING:
    from headrace.warehouses.common.sqlwarehouse import SqlWarehouse

BATCH = "_headrace_batch"


def load(wh: SqlWarehouse, request: LoadRequest, storage: Storage) -> int:
    """Load ``request`` in one transaction; rows loaded (for merges: rows inserted or changed)."""
    name = f"{request.schema}.{request.table}"
    with wh.transaction():
        if not wh.capabilities.single_writer:  # one load of a table at a time
            wh.lock(f"load {name}")
        wh.run(f"CREATE SCHEMA IF NOT EXISTS {wh.quote(request.schema)}")
        if request.mode == "full" or not wh.table_exists(request.schema, request.table):
            rows = _full(wh, request, storage)
        else:
            check_columns(wh, request)
            rows = _merge(wh, request, storage) if request.merges else _append(wh, request, storage)
        record(wh, request, rows)
    faults.point("load.after_commit")
    return rows


def record(wh: SqlWarehouse, request: LoadRequest, rows: int) -> None:
    """The incremental cursor and the ``table_loads`` row, inside the load's transaction (last step)."""
    if request.state_key is not None and request.state_value is not None:
        wh.set_state(request.state_key, request.state_value)
    p = wh.param
    wh.run(
        f"INSERT INTO {META}.table_loads VALUES ({p}, {p}, {p}, {p}, {p}, now())",
        (request.run_id, f"{request.schema}.{request.table}", request.mode, rows, request.files.bytes),
    )
    faults.point("load.before_commit")


def _columns(wh: SqlWarehouse, request: LoadRequest) -> list[str]:
    return [wh.quote(c.name) for c in request.files.columns]


def _insert_parts(wh: SqlWarehouse, table: str, request: LoadRequest, storage: Storage) -> int:
    """A full load's parts: their rows in any order (a batch keeps arrival order: ``_batch``)."""
    return wh.insert_parts(table, request, storage, ordered=False)


def _full(wh: SqlWarehouse, request: LoadRequest, storage: Storage) -> int:
    stage_name = wh.short_name("_hr_stage_", request.table)
    stage = wh.qualified(request.schema, stage_name)
    wh.run(f"DROP TABLE IF EXISTS {stage}")
    wh.run(f"CREATE TABLE {stage} ({', '.join(stage_columns(wh, request))})")
    rows = _insert_parts(wh, stage, request, storage)
    finish_stage(wh, stage, request)
    wh.swap(request.schema, stage_name, request.table)
    return rows


def stage_columns(wh: SqlWarehouse, request: LoadRequest, loaded_at: str = "now()") -> list[str]:
    """A staging table's column definitions: the data's, then when and by which run it was loaded."""
    cols = [f"{wh.quote(c.name)} {wh.sql_type(c.type)}" for c in request.files.columns]
    cols.append(f"{LOADED_AT} {wh.sql_type('timestamp_tz')} NOT NULL DEFAULT {loaded_at}")
    cols.append(f"{RUN_ID} {wh.sql_type('string')} NOT NULL DEFAULT {wh.lit(request.run_id)}")
    return cols


def finish_stage(wh: SqlWarehouse, stage: str, request: LoadRequest) -> None:
    """A loaded staging table made ready to become the table: no default run, keys checked and indexed."""
    wh.run(f"ALTER TABLE {stage} ALTER COLUMN {RUN_ID} DROP DEFAULT")
    if request.merges:  # later runs merge into this table
        _check_keys(wh, stage, request)
        wh.index_keys(stage, request.primary_key)


def _sqlglot_base(dialect: str) -> Callable[[str], object]:
    """Column types compared by sqlglot's base type in ``dialect`` (the text where sqlglot does not know it)."""
    from sqlglot import exp

    def base(kind: str) -> object:
        try:
            return exp.DataType.build(kind, dialect=dialect).this
        except Exception:  # a type sqlglot does not know: compare the text
            return kind.split("(")[0].lower()

    return base


class TypedColumns(Protocol):
    """What ``check_columns`` needs of a warehouse."""

    capabilities: Capabilities

    def column_types(self, schema: str, table: str) -> list[tuple[str, str]]: ...

    def sql_type(self, portable: str) -> str: ...


def check_columns(wh: TypedColumns, request: LoadRequest, base: Callable[[str], object] | None = None) -> None:
    """The table must have the batch's columns, in order and of the same base types (``base(type)``
    says what a type is compared as; default: sqlglot's base type in the warehouse's dialect)."""
    base = base or _sqlglot_base(wh.capabilities.dialect)
    have = [(n, t) for n, t in wh.column_types(request.schema, request.table) if n not in (LOADED_AT, RUN_ID)]
    new = [(c.name, wh.sql_type(c.type)) for c in request.files.columns]
    same = len(have) == len(new) and all(
        name == new_name and base(kind) == base(new_kind)
        for (name, kind), (new_name, new_kind) in zip(have, new, strict=True)
    )
    if not same:
        shown = ", ".join(f"{n} {t}" for n, t in have)
        incoming = ", ".join(f"{n} {t}" for n, t in new)
        raise TaskFailed(
            f"{request.schema}.{request.table} has columns ({shown}) but the new data has ({incoming}); "
            "run with --full-refresh to rebuild the table"
        )


def _batch(wh: SqlWarehouse, request: LoadRequest, storage: Storage) -> str:
    """A temporary table holding this run's rows (data columns, arrival order); its name."""
    batch = f"{wh.temp_schema}.{BATCH}"
    cols = [f"{wh.quote(c.name)} {wh.sql_type(c.type)}" for c in request.files.columns]
    if wh.seq_column:
        cols.append(wh.seq_column)
    wh.run(f"DROP TABLE IF EXISTS {batch}")
    wh.run(f"CREATE TEMP TABLE {BATCH} ({', '.join(cols)})")
    wh.insert_parts(batch, request, storage, ordered=True)
    return batch


def _append(wh: SqlWarehouse, request: LoadRequest, storage: Storage) -> int:
    batch = _batch(wh, request, storage)
    cols = ", ".join(_columns(wh, request))
    rows = wh.changed(
        f"INSERT INTO {wh.qualified(request.schema, request.table)} ({cols}, {LOADED_AT}, {RUN_ID}) "
        f"SELECT {cols}, now(), {wh.lit(request.run_id)} FROM {batch} ORDER BY {wh.seq}"
    )
    wh.run(f"DROP TABLE {batch}")
    return rows


def _check_keys(wh: SqlWarehouse, table: str, request: LoadRequest) -> None:
    if wh.capabilities.null_safe_keys:
        return
    nulls = " OR ".join(f"{wh.quote(k)} IS NULL" for k in request.primary_key)
    count = wh.count(f"SELECT count(*) FROM {table} WHERE {nulls}")
    if count:
        raise TaskFailed(
            f"{request.schema}.{request.table}: {count} row(s) have a NULL primary key "
            f"({', '.join(request.primary_key)}); a merge needs every key set (fix the source or the filter)"
        )


def _merge(wh: SqlWarehouse, request: LoadRequest, storage: Storage) -> int:
    """Merge the batch on the primary key; rows inserted or changed."""
    batch = _batch(wh, request, storage)
    _check_keys(wh, batch, request)
    names = [c.name for c in request.files.columns]
    keys = [wh.quote(k) for k in request.primary_key]
    values = [wh.quote(n) for n in names if n not in request.primary_key]
    cols = [wh.quote(n) for n in names]
    target = wh.qualified(request.schema, request.table)
    run = wh.lit(request.run_id)
    last = f"(SELECT DISTINCT ON ({', '.join(keys)}) * FROM {batch} ORDER BY {', '.join(keys)}, {wh.seq} DESC)"
    same_key = "IS NOT DISTINCT FROM" if wh.capabilities.null_safe_keys else "="
    on = " AND ".join(f"t.{k} {same_key} b.{k}" for k in keys)
    changed = (
        f"ROW({', '.join(f't.{v}' for v in values)}) IS DISTINCT FROM ROW({', '.join(f'b.{v}' for v in values)})"
        if values
        else ""
    )
    updates = ", ".join([*(f"{v} = b.{v}" for v in values), f"{LOADED_AT} = now()", f"{RUN_ID} = {run}"])
    insert = f"({', '.join(cols)}, {LOADED_AT}, {RUN_ID})"
    if wh.capabilities.merge:
        rows = wh.changed(
            f"MERGE INTO {target} AS t USING {last} AS b ON {on} "
            + (f"WHEN MATCHED AND {changed} THEN UPDATE SET {updates} " if values else "")
            + f"WHEN NOT MATCHED THEN INSERT {insert} VALUES ({', '.join(f'b.{c}' for c in cols)}, now(), {run})"
        )
    else:
        rows = 0
        if values:
            rows += wh.changed(f"UPDATE {target} AS t SET {updates} FROM {last} AS b WHERE {on} AND {changed}")
        rows += wh.changed(
            f"INSERT INTO {target} {insert} SELECT {', '.join(f'b.{c}' for c in cols)}, now(), {run} "
            f"FROM {last} AS b WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {on})"
        )
    wh.run(f"DROP TABLE {batch}")
    return rows
