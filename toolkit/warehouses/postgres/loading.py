"""Loads into PostgreSQL: ``COPY FROM STDIN`` streamed from the stored gzip parts.

All of a load runs in the caller's transaction:

- ``full`` (and the first load of any table): COPY into a staging table, then swap it in
  (see ``swap.py``);
- ``append`` and ``incremental`` without a key: COPY into a temporary batch table, then
  one ``INSERT`` into the target (no long exclusive lock on the target);
- ``upsert`` and ``incremental`` with a primary key: the batch is deduplicated (last row
  per key wins) and merged with ``MERGE``; a row whose values did not change is left
  alone, so re-running the same batch changes nothing.
"""

from __future__ import annotations

import gzip
from typing import Any

from headrace.errors import TaskFailed
from headrace.storage.base import Storage
from headrace.typemaps import pg_format_name as format_name
from headrace.typemaps import pg_type
from headrace.warehouses.base import LOADED_AT, RUN_ID, LoadRequest
from headrace.warehouses.postgres.sql import ident, literal, qualified, short_name
from headrace.warehouses.postgres.swap import columns_of, swap

CHUNK = 1024 * 1024
BATCH = "_headrace_batch"
SEQ = "_headrace_seq"


def _data_columns(request: LoadRequest) -> str:
    return ", ".join(ident(c.name) for c in request.files.columns)


def copy_parts(cur: Any, table: str, request: LoadRequest, storage: Storage) -> int:
    """Stream every part into ``table`` (its data columns); rows copied."""
    rows = 0
    sql = f"COPY {table} ({_data_columns(request)}) FROM STDIN WITH (FORMAT csv, HEADER MATCH)"
    for part_ref in request.parts:
        with storage.open(part_ref.key) as raw, gzip.open(raw, "rb") as part, cur.copy(sql) as copy:
            while chunk := part.read(CHUNK):
                copy.write(chunk)
        rows += max(cur.rowcount, 0)
    return rows


def _create_stage(cur: Any, request: LoadRequest, stage: str) -> None:
    cols = [f"{ident(c.name)} {pg_type(c.type)}" for c in request.files.columns]
    cols.append(f"{LOADED_AT} timestamptz NOT NULL DEFAULT now()")
    cols.append(f"{RUN_ID} text NOT NULL DEFAULT {literal(request.run_id)}")
    cur.execute(f"DROP TABLE IF EXISTS {stage}")
    cur.execute(f"CREATE TABLE {stage} ({', '.join(cols)})")


def load_full(cur: Any, request: LoadRequest, storage: Storage) -> int:
    stage_name = short_name("_hr_stage_", request.table)
    stage = qualified(request.schema, stage_name)
    _create_stage(cur, request, stage)
    rows = copy_parts(cur, stage, request, storage)
    cur.execute(f"ALTER TABLE {stage} ALTER COLUMN {RUN_ID} DROP DEFAULT")
    if request.merges:
        _check_keys(cur, stage, request)
        keys = ", ".join(ident(k) for k in request.primary_key)
        cur.execute(f"CREATE INDEX ON {stage} ({keys})")
    swap(cur, request.schema, stage_name, request.table)
    return rows


def check_columns(cur: Any, request: LoadRequest) -> None:
    """The target must have the batch's columns, in order and of the same base types."""
    have = [
        (n, t) for n, t in columns_of(cur, qualified(request.schema, request.table)) if n not in (LOADED_AT, RUN_ID)
    ]
    new = [(c.name, format_name(c.type)) for c in request.files.columns]
    same = len(have) == len(new) and all(
        name == new_name and kind.split("(")[0] == new_kind.split("(")[0]
        for (name, kind), (new_name, new_kind) in zip(have, new, strict=True)
    )
    if not same:
        shown = ", ".join(f"{n} {t}" for n, t in have)
        incoming = ", ".join(f"{n} {t}" for n, t in new)
        raise TaskFailed(
            f"{request.schema}.{request.table} has columns ({shown}) but the new data has ({incoming}); "
            "run with --full-refresh to rebuild the table"
        )


def _batch(cur: Any, request: LoadRequest, storage: Storage) -> int:
    cols = [f"{ident(c.name)} {pg_type(c.type)}" for c in request.files.columns]
    cols.append(f"{SEQ} bigint GENERATED ALWAYS AS IDENTITY")
    cur.execute(f"DROP TABLE IF EXISTS pg_temp.{BATCH}")
    cur.execute(f"CREATE TEMP TABLE {BATCH} ({', '.join(cols)}) ON COMMIT DROP")
    return copy_parts(cur, f"pg_temp.{BATCH}", request, storage)


def load_append(cur: Any, request: LoadRequest, storage: Storage) -> int:
    _batch(cur, request, storage)
    cols = _data_columns(request)
    cur.execute(
        f"INSERT INTO {qualified(request.schema, request.table)} ({cols}, {LOADED_AT}, {RUN_ID}) "
        f"SELECT {cols}, now(), {literal(request.run_id)} FROM pg_temp.{BATCH} ORDER BY {SEQ}"
    )
    return max(cur.rowcount, 0)


def _check_keys(cur: Any, table: str, request: LoadRequest) -> None:
    nulls = " OR ".join(f"{ident(k)} IS NULL" for k in request.primary_key)
    cur.execute(f"SELECT count(*) FROM {table} WHERE {nulls}")
    count = cur.fetchone()[0]
    if count:
        raise TaskFailed(
            f"{request.schema}.{request.table}: {count} row(s) have a NULL primary key "
            f"({', '.join(request.primary_key)}); a merge needs every key set (fix the source or the filter)"
        )


def load_merge(cur: Any, request: LoadRequest, storage: Storage) -> int:
    """Merge the batch on the primary key; rows inserted or changed."""
    _batch(cur, request, storage)
    _check_keys(cur, f"pg_temp.{BATCH}", request)
    names = [c.name for c in request.files.columns]
    keys = [ident(k) for k in request.primary_key]
    values = [ident(n) for n in names if n not in request.primary_key]
    target = qualified(request.schema, request.table)
    run = literal(request.run_id)
    on = " AND ".join(f"t.{k} = b.{k}" for k in keys)
    changed = (
        f" AND ROW({', '.join(f't.{v}' for v in values)}) IS DISTINCT FROM ROW({', '.join(f'b.{v}' for v in values)})"
        if values
        else ""
    )
    updates = ", ".join([*(f"{v} = b.{v}" for v in values), f"{LOADED_AT} = now()", f"{RUN_ID} = {run}"])
    cols = ", ".join(ident(n) for n in names)
    cur.execute(
        f"MERGE INTO {target} AS t "
        f"USING (SELECT DISTINCT ON ({', '.join(keys)}) * FROM pg_temp.{BATCH} ORDER BY {', '.join(keys)}, {SEQ} DESC)"
        f" AS b ON {on} "
        f"WHEN MATCHED{changed} THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({cols}, {LOADED_AT}, {RUN_ID}) "
        f"VALUES ({', '.join(f'b.{ident(n)}' for n in names)}, now(), {run})"
    )
    return max(cur.rowcount, 0)
