"""``headrace_meta.sandboxes``: which sandboxes exist, whose they are and when each was last used.

No credential is ever kept here (they are in the secret store). "Last used" is touched by
``create`` and ``run``, and by a sweep for a sandbox whose login has a session open then (a SQL
client connected to it); a sandbox idle for longer than ``sandboxes.idle_expiry`` is dropped by
the next sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from headrace.warehouses.base import META
from headrace.warehouses.common.sqlwarehouse import SqlWarehouse

TABLE = f"{META}.sandboxes"


@dataclass(frozen=True)
class Entry:
    name: str
    user: str
    transformation: str
    created_at: datetime
    last_used_at: datetime


_COLUMNS = "name, user_name, transformation, created_at, last_used_at"


def find(wh: SqlWarehouse, user: str, transformation: str) -> Entry | None:
    p = wh.param
    row = wh.run(
        f"SELECT {_COLUMNS} FROM {TABLE} WHERE user_name = {p} AND transformation = {p}", (user, transformation)
    ).fetchone()
    return Entry(*row) if row else None


def by_name(wh: SqlWarehouse, name: str) -> Entry | None:
    row = wh.run(f"SELECT {_COLUMNS} FROM {TABLE} WHERE name = {wh.param}", (name,)).fetchone()
    return Entry(*row) if row else None


def entries(wh: SqlWarehouse) -> list[Entry]:
    return [
        Entry(*row) for row in wh.run(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY user_name, transformation").fetchall()
    ]


def add(wh: SqlWarehouse, name: str, user: str, transformation: str) -> None:
    p = wh.param
    wh.run(f"INSERT INTO {TABLE} VALUES ({p}, {p}, {p}, now(), now())", (name, user, transformation))


def touch(wh: SqlWarehouse, names: list[str]) -> None:
    for name in names:
        wh.run(f"UPDATE {TABLE} SET last_used_at = now() WHERE name = {wh.param}", (name,))


def idle(wh: SqlWarehouse, idle_s: int, now: float) -> list[Entry]:
    """Sandboxes not used for more than ``idle_s`` seconds before ``now`` (epoch seconds)."""
    sql = f"SELECT {_COLUMNS} FROM {TABLE} WHERE last_used_at < to_timestamp({wh.param}) ORDER BY name"
    return [Entry(*row) for row in wh.run(sql, (now - idle_s,)).fetchall()]


def remove(wh: SqlWarehouse, name: str) -> None:
    wh.run(f"DELETE FROM {TABLE} WHERE name = {wh.param}", (name,))
