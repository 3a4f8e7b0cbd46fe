"""Streaming a stored part into DuckDB through a named pipe.

DuckDB's ``read_csv`` reads a plain CSV from a FIFO but not a gzip stream, so a thread
decompresses the part (``storage.open``) into the FIFO while DuckDB reads it: nothing of
the part is held in memory or written to disk. The feeder opens the FIFO before it opens
the part, so DuckDB never waits for a writer that failed; a feeder that fails after DuckDB
finished reading (the part was cut short) fails the load too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from headrace.errors import TaskFailed
from headrace.storage.base import Storage
from headrace.warehouses.base import StoredPart
from headrace.warehouses.common.parts import copy_csv

STOP_WAIT_S = 60.0  # a reader that stopped leaves the feeder a broken pipe at once; this never waits in practice


class Feeder:
    """Writes one part's CSV bytes into a FIFO from a thread."""

    def __init__(self, storage: Storage, part: StoredPart, path: str):
        self.storage = storage
        self.part = part
        self.path = path
        self.error: BaseException | None = None
        self.complete = False
        self._thread = threading.Thread(target=self._run, name="duckdb-part-feeder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with open(self.path, "wb") as pipe:  # blocks until DuckDB opens the FIFO
                copy_csv(self.storage, self.part, pipe.write)
            self.complete = True
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def finish(self) -> None:
        """Wait for the thread; if DuckDB never opened the FIFO, open it once so the feeder stops."""
        if self._thread.is_alive():
            with suppress(OSError):
                os.close(os.open(self.path, os.O_RDONLY | os.O_NONBLOCK))
        self._thread.join(STOP_WAIT_S)
        if self._thread.is_alive():
            raise TaskFailed(f"{self.part.key}: streaming the part into DuckDB did not stop")

    def read_error(self) -> BaseException | None:
        """Why the part could not be read from storage (a broken pipe only means DuckDB stopped reading)."""
        return None if isinstance(self.error, BrokenPipeError) else self.error

    def check(self) -> None:
        """After DuckDB finished: raise unless the whole part went through the FIFO."""
        if self.complete:
            return
        raise self.read_error() or TaskFailed(f"{self.part.key}: DuckDB stopped reading the part before its end")


@contextmanager
def streamed(storage: Storage, part: StoredPart) -> Iterator[tuple[str, Feeder]]:
    """A FIFO path DuckDB can ``read_csv`` (uncompressed) and the feeder writing the part into it."""
    folder = tempfile.mkdtemp(prefix="headrace-part-")
    path = os.path.join(folder, "part.csv")
    os.mkfifo(path, 0o600)
    feeder = Feeder(storage, part, path)
    try:
        yield path, feeder
    finally:
        feeder.finish()
        shutil.rmtree(folder, ignore_errors=True)
