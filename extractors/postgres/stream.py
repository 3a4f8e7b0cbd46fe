"""Compress while reading: COPY chunks batched to 1 MiB and handed to a gzip thread.

Iterating a psycopg COPY yields one small chunk per row, and gzip is the most expensive
step of an extract. Batching the chunks keeps the per-row cost to a list append; a
second thread runs the compression (zlib releases the GIL), so reading from the socket
and compressing overlap the way ``psql | gzip`` overlaps two processes. The queue is
short, so memory stays at a few MiB whatever the table's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from typing import IO, Protocol


class BlockWriter(Protocol):
    def write_csv(self, chunk: bytes, rows: int | None = None) -> None: ...


class PartFile:
    """A writer of blocks into one open part file (a binary COPY stream is never cut into parts)."""

    def __init__(self, out: IO[bytes]):
        self.out = out

    def write_csv(self, chunk: bytes, rows: int | None = None) -> None:
        self.out.write(chunk)


BLOCK = 1024 * 1024
DEPTH = 4  # blocks waiting for the compressor at most


class BackgroundWriter:
    def __init__(self, writer: BlockWriter):
        self.writer = writer
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gzip-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            block = self._queue.get()
            if block is None:
                return
            if self._error is None:
                try:
                    self.writer.write_csv(block, 0)
                except BaseException as exc:  # reported to the reading thread
                    self._error = exc

    def put(self, block: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(block)

    def finish(self) -> None:
        """Wait for every block to be written; raise the writer's error if it had one."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def pump(chunks: Iterable[bytes], writer: BlockWriter) -> int:
    """Write every chunk through a background compressor; bytes read."""
    background = BackgroundWriter(writer)
    total = 0
    try:
        batch: list[bytes] = []
        size = 0
        for chunk in chunks:
            batch.append(chunk)
            size += len(chunk)
            if size >= BLOCK:
                background.put(b"".join(batch))
                total += size
                batch, size = [], 0
        if batch:
            background.put(b"".join(batch))
            total += size
    finally:
        background.finish()
    return total
