"""How a table is split for parallel reads: ranges of ``ctid`` blocks, each read by its own stream.

A plain table (or materialized view) is cut into ranges of heap blocks. PostgreSQL 14+ reads
``ctid >= '(a,0)' AND ctid < '(b,0)'`` with a TID range scan, so each stream reads only its
blocks, and every row is in exactly one range. The last range is open-ended, so rows in blocks
added after the size was read (none in the snapshot, but the block count is read outside MVCC)
are not missed. Tables under ``PARALLEL_MIN_BYTES``, views, queries, partitioned tables and
servers before 14 are read as one range by the caller (``plan`` returns an empty list).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

PARALLEL_MIN_BYTES = 64 * 1024 * 1024  # smaller tables: one stream (a process costs more than it saves)
RANGE_BYTES = 512 * 1024 * 1024  # heap bytes per range at most: bounds the size of each part
# both can be lowered for tests and tuning: HEADRACE_PARALLEL_MIN_BYTES, HEADRACE_RANGE_BYTES


def _bytes(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


MAX_AUTO_STREAMS = 8


@dataclass(frozen=True)
class BlockRange:
    first: int  # first heap block
    end: int | None  # first block after the range; None: to the end of the table

    def condition(self) -> str:
        lower = f"ctid >= '({self.first},0)'::tid"
        return lower if self.end is None else f"{lower} AND ctid < '({self.end},0)'::tid"


def stream_count(setting: int | str) -> int:
    """Streams for one table: the setting, or one per CPU core of this machine (at most 8)."""
    if isinstance(setting, int):
        return setting
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_STREAMS))


_SIZE = """
SELECT c.relkind, pg_catalog.pg_relation_size(c.oid), current_setting('block_size')::int,
       current_setting('server_version_num')::int
FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s
"""


def plan(cur: Any, source: str | None, streams: int) -> list[BlockRange]:
    """The block ranges to read ``source`` (``schema.table``) in; empty: read it as one stream."""
    if source is None or streams < 2:
        return []
    schema, table = source.split(".")
    cur.execute(_SIZE, (schema, table))
    found = cur.fetchone()
    if found is None:
        return []
    kind, size, block_size, version = found
    if (
        kind not in ("r", "m")
        or version < 140000
        or int(size) < _bytes("HEADRACE_PARALLEL_MIN_BYTES", PARALLEL_MIN_BYTES)
    ):
        return []
    blocks = int(size) // int(block_size)
    count = max(streams, math.ceil(int(size) / _bytes("HEADRACE_RANGE_BYTES", RANGE_BYTES)))
    step = math.ceil(blocks / count)
    ranges = [BlockRange(i * step, (i + 1) * step) for i in range(count) if i * step < blocks]
    last = ranges[-1]
    ranges[-1] = BlockRange(last.first, None)
    return ranges
