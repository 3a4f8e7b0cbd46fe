"""Failpoints for crash tests: ``HEADRACE_FAULTS=load.before_commit`` makes a task stop there.

A named point, when listed in the environment variable, prints ``FAULT <name>`` and
waits to be killed, so a test can SIGKILL a real process at a known moment (for example
with a load's transaction open) instead of racing a timer. Unset, a point costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import sys
import time


def point(name: str) -> None:
    faults = os.environ.get("HEADRACE_FAULTS")
    if faults and name in faults.split(","):
        print(f"FAULT {name}", flush=True)
        sys.stdout.flush()
        while True:
            time.sleep(3600)
