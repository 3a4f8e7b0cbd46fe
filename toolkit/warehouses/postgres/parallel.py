"""Full loads over several connections: each part its own ``COPY``, ``load_streams`` at a time.

A COPY into a table created in the loading transaction cannot be shared with other sessions,
so a parallel load first commits an empty staging table in ``headrace_stage``, a schema no
other role may use (no grants: only the warehouse user and superusers read it). The COPYs
fill it over ``streams`` connections, then ONE transaction takes the table's load lock, moves
the stage into the table's schema and swaps it in, with the incremental cursor and the
``table_loads`` row: readers see the old table or the new one. A failed load drops its stage.

Each stage has a unique name and is held by a session advisory lock of the loading connection
from before it exists until it is gone, so a sweep (``in_use``) leaves a live load's stage
alone and drops a killed one's: the server releases the lock when the connection dies.
"""

from __future__ import annotations

import queue
import threading
import uuid
from typing import TYPE_CHECKING, Any

from headrace import faults
from headrace.connectors.postgres import connect
from headrace.storage.base import Storage
from headrace.warehouses.base import LoadRequest, StoredPart
from headrace.warehouses.common import leftovers, loads
from headrace.warehouses.postgres import copy

if TYPE_CHECKING:
    from headrace.warehouses.postgres.warehouse import PostgresWarehouse

STAGE_SCHEMA = "headrace_stage"
STAGE_LOCK = 0x4873_7467  # advisory lock class of a parallel load's stage (class, hashtext(stage name))


def applies(wh: PostgresWarehouse, request: LoadRequest) -> bool:
    """A full (or first) load of several parts with more than one stream configured."""
    if streams(wh, request) < 2:
        return False
    return request.mode == "full" or not wh.table_exists(request.schema, request.table)


def streams(wh: PostgresWarehouse, request: LoadRequest) -> int:
    return min(int(wh.settings.get("load_streams") or 1), len(request.parts))


def load(wh: PostgresWarehouse, request: LoadRequest, storage: Storage) -> int | None:
    """Load ``request`` in parallel; rows loaded, or None when a concurrent load created the table
    meanwhile and this one (not ``full``) must append or merge instead."""
    stage_name = wh.short_name(leftovers.STAGE_PREFIX, f"{request.table}_{uuid.uuid4().hex[:8]}")
    stage = wh.qualified(STAGE_SCHEMA, stage_name)
    wh.run("SELECT pg_advisory_lock(%s, hashtext(%s))", (STAGE_LOCK, stage_name))
    try:
        with wh.transaction():
            wh.run("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (STAGE_LOCK, STAGE_SCHEMA))
            wh.run(f"CREATE SCHEMA IF NOT EXISTS {STAGE_SCHEMA}")
            loaded_at = wh.run("SELECT quote_literal(now())").fetchone()[0]  # one time for every COPY
            wh.run(f"CREATE TABLE {stage} ({', '.join(loads.stage_columns(wh, request, loaded_at))})")
        rows = copy_parts(wh, stage, request, storage)
        loads.finish_stage(wh, stage, request)
        with wh.transaction():
            wh.lock(f"load {request.schema}.{request.table}")
            if request.mode != "full" and wh.table_exists(request.schema, request.table):
                return None  # nothing changed yet; the stage is dropped below
            wh.run(f"CREATE SCHEMA IF NOT EXISTS {wh.quote(request.schema)}")
            wh.run(f"ALTER TABLE {stage} SET SCHEMA {wh.quote(request.schema)}")
            wh.swap(request.schema, stage_name, request.table)
            loads.record(wh, request, rows)
        faults.point("load.after_commit")
        return rows
    finally:
        _drop_stage(wh, stage, stage_name)


def _drop_stage(wh: PostgresWarehouse, stage: str, stage_name: str) -> None:
    import psycopg

    try:
        wh.run(f"DROP TABLE IF EXISTS {stage}")  # gone already when swapped in
        wh.run("SELECT pg_advisory_unlock(%s, hashtext(%s))", (STAGE_LOCK, stage_name))
    except psycopg.Error:  # a broken connection: the server dropped the lock; a sweep drops the stage
        pass


def copy_parts(wh: PostgresWarehouse, stage: str, request: LoadRequest, storage: Storage) -> int:
    """COPY every part into ``stage`` over ``streams`` connections (each COPY commits); rows copied.
    The first failure stops the others (their COPY is cancelled); the failure of the first part in
    the table's order is raised, so the same broken parts give the same error every time."""
    import psycopg

    todo: queue.SimpleQueue[tuple[int, StoredPart]] = queue.SimpleQueue()
    for item in enumerate(request.parts):
        todo.put(item)
    columns = ", ".join(wh.quote(c.name) for c in request.files.columns)
    counts: list[int] = []
    errors: list[tuple[int, BaseException]] = []
    cons: list[Any] = []
    lock = threading.Lock()
    stop = threading.Event()

    def work(con: Any) -> None:
        index = -1
        try:
            with con.cursor() as cur:
                while not stop.is_set():
                    try:
                        index, part = todo.get_nowait()
                    except queue.Empty:
                        return
                    rows = copy.insert_part(cur, stage, columns, request, part, storage)
                    with lock:
                        counts.append(rows)
        except BaseException as exc:  # handed to the caller thread
            if stop.is_set() and isinstance(exc, psycopg.errors.QueryCanceled):
                return  # stopped by another stream's failure
            with lock:
                errors.append((index, exc))
                first = not stop.is_set()
                stop.set()
            if first:
                for other in cons:
                    if other is not con:
                        other.cancel_safe()

    try:
        for _ in range(streams(wh, request)):
            cons.append(connect(wh.settings, "warehouse", application="headrace-load"))
        threads = [threading.Thread(target=work, args=(con,), daemon=True) for con in cons]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for con in cons:
            con.close()
    if errors:
        raise min(errors, key=lambda e: e[0])[1]
    return sum(counts)


def in_use(wh: PostgresWarehouse, stage_name: str) -> bool:
    """Whether a live load holds this stage (its session advisory lock is taken)."""
    free = wh.run("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (STAGE_LOCK, stage_name)).fetchone()[0]
    if free:
        wh.run("SELECT pg_advisory_unlock(%s, hashtext(%s))", (STAGE_LOCK, stage_name))
    return not free
