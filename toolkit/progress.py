"""Progress of long work for the task log: a line every few seconds, never per row."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

INTERVAL_S = 5.0


@contextmanager
def every(interval_s: float, report: Callable[[float], None]) -> Iterator[None]:
    """Call ``report(elapsed seconds)`` every ``interval_s`` while the block runs."""
    stop = threading.Event()
    started = time.monotonic()

    def loop() -> None:
        while not stop.wait(interval_s):
            report(time.monotonic() - started)

    thread = threading.Thread(target=loop, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
