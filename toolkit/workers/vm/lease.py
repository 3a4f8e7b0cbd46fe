"""Leases on a worker VM, shared by the tasks of several processes on the Airflow machine.

One folder per VM under the state directory (``<state>/workers/<vm key>/``):

- ``leases/<id>.json``: one per task that needs the VM, with its owner process and an
  expiry; a thread of the task renews it every third of ``lease_ttl``. A task that dies
  (SIGKILL) stops renewing, and its lease expires ``lease_ttl`` after the last renewal.
- ``state.json``: since when the VM has had no live lease (the sweeper's idle clock), and
  when a task last asked the cloud to start it.
- ``events.log``: one line per decision (start, stop, expired lease), for people and tests.
- ``lock``: every read and change of the folder, and every decision to start or stop the
  VM, happens under an exclusive ``flock`` on this file, so two processes never decide at
  once (the lock is released by the kernel when its holder dies).

The cloud calls that start and stop the VM are made by ``headrace.workers.vm.machine``
while it holds the lock; nothing here talks to a cloud.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from headrace.lifecycle import owner_token


def vm_folder(state: Path, key: str) -> Path:
    """``<state>/workers/<key>``, with ``key`` made safe as one folder name."""
    return state / "workers" / re.sub(r"[^A-Za-z0-9._-]+", "_", key)


@dataclass(frozen=True)
class Lease:
    id: str
    owner: str  # ``lifecycle.owner_token()`` of the process holding it
    task: str  # what holds it, for messages (``extractor:crm``)
    expires: float  # epoch seconds


class LeaseBook:
    """The lease folder of one VM. Use its methods only inside ``with book.locked():``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._leases = folder / "leases"
        self._held = threading.local()

    @contextlib.contextmanager
    def locked(self) -> Iterator[LeaseBook]:
        """Hold the VM's exclusive lock (re-entrant within a thread)."""
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield self
            finally:
                self._held.depth -= 1
            return
        self._leases.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._held.depth = 1
            try:
                yield self
            finally:
                self._held.depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def leases(self) -> list[Lease]:
        found: list[Lease] = []
        for path in sorted(self._leases.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, TypeError):  # a half-written file of a killed writer
                found.append(Lease(**json.loads(path.read_text())))
        return found

    def write(self, lease: Lease) -> None:
        _write_json(self._leases / f"{lease.id}.json", asdict(lease))

    def remove(self, lease_id: str) -> bool:
        try:
            (self._leases / f"{lease_id}.json").unlink()
        except FileNotFoundError:
            return False
        return True

    def drop_expired(self, now: float) -> list[Lease]:
        """Remove the leases whose expiry passed; the idle clock starts when the last of them expired."""
        expired = [lease for lease in self.leases() if lease.expires <= now]
        for lease in expired:
            self.remove(lease.id)
            self.note(f"lease of {lease.task} ({lease.owner}) expired")
        if expired and not self.live(now):
            self.set_idle_since(max(lease.expires for lease in expired))
        return expired

    def live(self, now: float) -> list[Lease]:
        return [lease for lease in self.leases() if lease.expires > now]

    def idle_since(self) -> float | None:
        """Since when the VM has had no live lease (None: it has one, or no one knows)."""
        return self._get("idle_since")

    def set_idle_since(self, when: float | None) -> None:
        self._set("idle_since", when)

    def start_requested(self) -> float | None:
        """When a task last asked the cloud to start the VM."""
        return self._get("start_requested")

    def set_start_requested(self, when: float | None) -> None:
        self._set("start_requested", when)

    def _get(self, name: str) -> float | None:
        try:
            value = json.loads((self.folder / "state.json").read_text()).get(name)
        except (OSError, ValueError, AttributeError):
            return None
        return float(value) if isinstance(value, int | float) else None

    def _set(self, name: str, value: float | None) -> None:
        try:
            data = json.loads((self.folder / "state.json").read_text())
        except (OSError, ValueError):
            data = {}
        _write_json(self.folder / "state.json", {**(data if isinstance(data, dict) else {}), name: value})

    def note(self, event: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with (self.folder / "events.log").open("a") as log:
            log.write(f"{stamp} {event}\n")

    def events(self) -> list[str]:
        try:
            return [line.split(" ", 1)[1] for line in (self.folder / "events.log").read_text().splitlines()]
        except OSError:
            return []


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)  # readers see the old or the new file, never half of one


class HeldLease:
    """This process's lease on a VM: taken, renewed by a thread every third of ``ttl``, released."""

    def __init__(self, book: LeaseBook, ttl: float, task: str):
        self.book = book
        self.ttl = ttl
        self.lease = Lease(uuid.uuid4().hex, owner_token(), task, 0.0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self) -> None:
        """Write the lease (call under the book's lock) and start renewing it."""
        self._renew_now()
        self._thread = threading.Thread(target=self._renew, name=f"lease-{self.lease.task}", daemon=True)
        self._thread.start()

    def _renew_now(self) -> None:
        with self.book.locked():
            self.lease = Lease(self.lease.id, self.lease.owner, self.lease.task, time.time() + self.ttl)
            self.book.write(self.lease)  # also brings back a lease a sweep dropped while this process hung
            self.book.set_idle_since(None)

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            with contextlib.suppress(OSError):  # a full disk: the next renewal tries again
                self._renew_now()

    def give_back(self, on_last: Callable[[], None]) -> None:
        """Stop renewing, remove the lease; call ``on_last`` (under the lock) when no live lease is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.book.locked():
            self.book.remove(self.lease.id)
            now = time.time()
            self.book.drop_expired(now)
            if not self.book.live(now):
                self.book.set_idle_since(now)
                on_last()
