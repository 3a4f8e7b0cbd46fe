"""``headrace worker sweep``: what crashed tasks left on the workers, and a VM left idle.

Run by the sweeper DAG every few minutes (and by hand). For a VM worker it drops the
VM's expired leases, stops the VM once it has had no live lease for
``worker.idle_stop_after`` seconds (never with ``worker.keep_running``), and, while the
VM runs, removes the containers a killed task left on it. For the ``docker`` worker it
removes such containers on its engine. A container is left over when the process that
started it (label ``headrace.owner``) is gone, or its expiry (``headrace.expires``: its
start + timeout + grace) has passed. Each action is one line of the result.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from headrace.lifecycle import owner_dead
from headrace.workers.docker import LABEL_EXPIRES, LABEL_OWNER, LABEL_TASK
from headrace.workers.vm.lease import LeaseBook
from headrace.workers.vm.machine import Machine, stop_if_unused
from headrace.workers.vm.worker import VmWorker

VM_SSH_TIMEOUT_S = 30.0


def sweep_engine(docker_host: str | None) -> list[str]:
    """The ``docker`` worker's engine (``docker_host``; None: DOCKER_HOST, else the local socket)."""
    from headrace.workers.docker.engine import connect, engine_url

    client = connect(docker_host)
    try:
        return sweep_containers(client, f"the Docker engine {engine_url(docker_host) or 'on the local socket'}")
    finally:
        client.close()


def sweep_vm(worker: VmWorker, project_dir: Path, now: float | None = None) -> list[str]:
    machine = worker.machine()
    book = worker.book(project_dir, machine)
    actions, running = _vm_decisions(worker, machine, book, now or time.time())
    if running:
        actions += _vm_containers(worker, machine, book)
    return actions


def _vm_decisions(worker: VmWorker, machine: Machine, book: LeaseBook, now: float) -> tuple[list[str], bool]:
    """Drop expired leases and stop an idle VM, under the VM's lease lock; whether the VM still runs."""
    s = worker.settings
    with book.locked():
        actions = [
            f"dropped the expired lease of {lease.task} ({lease.owner}) on {machine.name}"
            for lease in book.drop_expired(now)
        ]
        state = machine.status()
        if state != "running" or s.keep_running or book.live(now):
            return actions, state == "running"
        since = book.idle_since()
        if since is None:  # idle since before this sweep knows of: count from now
            since = now
            book.set_idle_since(now)
        if now - since >= s.idle_stop_after and stop_if_unused(machine, book, "idle"):
            idle = f"no task for {int(now - since)} s (worker.idle_stop_after: {s.idle_stop_after})"
            actions.append(f"stopped {machine.name}: {idle}")
            return actions, False
    return actions, True


def _vm_containers(worker: VmWorker, machine: Machine, book: LeaseBook) -> list[str]:
    from headrace.workers.vm.ssh import docker_over_ssh

    s = worker.settings
    host = s.host or machine.private_address()
    if not host:
        return []
    try:
        key = worker.key_file()
        client = docker_over_ssh(s.ssh_user, host, s.ssh_port, key, book.folder / "known_hosts", VM_SSH_TIMEOUT_S)
    except Exception as exc:  # the VM is booting or unreachable: the next sweep looks again
        return [f"could not look at the containers on {machine.name} ({type(exc).__name__}: {exc})"]
    try:
        return sweep_containers(client, machine.name)
    finally:
        client.close()


def sweep_containers(client: Any, where: str, now: float | None = None) -> list[str]:
    """Remove the containers whose owner process is gone or whose expiry passed."""
    now = now or time.time()
    actions: list[str] = []
    for container in client.containers.list(all=True, filters={"label": LABEL_OWNER}):
        labels = container.labels or {}
        owner = labels.get(LABEL_OWNER, "")
        expires = labels.get(LABEL_EXPIRES, "")
        if owner_dead(owner):
            why = f"its owner {owner} is gone"
        elif expires.replace(".", "", 1).isdigit() and float(expires) < now:
            why = f"it expired at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(float(expires)))}"
        else:
            continue
        with contextlib.suppress(Exception):  # removed meanwhile by its own task
            container.remove(force=True)
            task = labels.get(LABEL_TASK, "?")
            actions.append(f"removed container {container.name} of {task} on {where}: {why}")
    return actions
