"""DuckDB's single-writer file lock: a task waits for it, and a wait that runs out is a transient
error (retried later), not a failure of the task itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from headrace.errors import TransientError
from headrace.warehouses.duckdb.warehouse import connect_with_lock_wait

pytestmark = pytest.mark.integration

HOLD = "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('locked', flush=True); sys.stdin.read()"


def test_a_lock_held_past_the_wait_is_transient_and_released_locks_open(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(TransientError, match=rf"DuckDB file {path} stayed locked by another process"):
            connect_with_lock_wait(path, wait_s=0.2)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # the holder exits and releases the lock
        holder.wait(timeout=60)
    connect_with_lock_wait(path, wait_s=60).close()
