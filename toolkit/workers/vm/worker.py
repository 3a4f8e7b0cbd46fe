"""``VmWorker``: a task in a container on the install's worker VM, which runs only while needed.

For each task: take a lease on the VM (``lease.py``), start the VM if it is stopped and
wait until it runs and its Docker engine answers over SSH (all within
``worker.start_timeout``), run the container there as the ``docker`` worker does
(``ContainerRunner`` with a client over SSH), and give the lease back; the last lease to
go stops the VM (unless ``worker.keep_running``), after a failure or a cancel too. Each
cloud gives only its ``Machine`` (``aws/``, ``gcp/``, ``azure/``).

The VM's failures reach the task as its error: the VM that does not start and the SSH or
Docker engine that does not answer in time are transient (exit 75, retried), a missing
key file or a VM that no longer exists are configuration errors (exit 2).
"""

from __future__ import annotations

import contextlib
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from headrace.errors import EXIT_PROJECT_INVALID, EXIT_TRANSIENT, ConfigError, HeadraceError, TransientError
from headrace.paths import state_dir
from headrace.workers.base import EXIT_TERMINATED, Worker, WorkerOutcome, WorkSpec
from headrace.workers.vm import CAPABILITIES, VmWorkerSettings
from headrace.workers.vm.lease import HeldLease, LeaseBook, vm_folder
from headrace.workers.vm.machine import Machine, stop_if_unused, wait_running
from headrace.workers.vm.ssh import docker_over_ssh, wait_for_docker

ClientFactory = Callable[[], Any]  # a new docker.DockerClient on the VM's engine


class VmWorker(Worker):
    capabilities = CAPABILITIES

    def __init__(self, settings: VmWorkerSettings):
        self.settings = settings
        self._cancelled = threading.Event()
        self._runner: Any = None
        self._lock = threading.Lock()

    @abstractmethod
    def machine(self) -> Machine:
        """The VM, through its cloud's API."""

    def book(self, project_dir: Path, machine: Machine) -> LeaseBook:
        return LeaseBook(vm_folder(state_dir(project_dir), machine.key))

    def key_file(self) -> Path:
        path = Path(self.settings.ssh_key_file).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"project.yaml worker.ssh_key_file: {path} does not exist on this machine "
                "(the install writes the worker VM's SSH key there)"
            )
        return path

    @contextlib.contextmanager
    def session(self, project_dir: Path, what: str, on_line: Callable[[str], None]) -> Iterator[ClientFactory | None]:
        """Hold a lease on the VM while it runs and its Docker engine answers over SSH.

        Yields a factory of Docker clients on the VM's engine, or None when cancelled
        while the VM was starting. On leaving, the lease is given back and the VM stopped
        when it was the last one (unless ``keep_running``), also after an error.
        Raises ``ConfigError`` or ``TransientError`` when the VM or its engine cannot be used.
        """
        key_file = self.key_file()
        machine = self.machine()
        book = self.book(project_dir, machine)
        held = HeldLease(book, self.settings.lease_ttl, what)
        held.take()
        try:
            yield self._ready(machine, book, key_file, on_line)
        finally:
            held.give_back(lambda: self._stop_last(machine, book, what, on_line))

    def _ready(self, machine: Machine, book: LeaseBook, key_file: Path, on_line: Callable[[str], None]) -> Any:
        s = self.settings
        deadline = time.monotonic() + s.start_timeout
        if not wait_running(machine, book, deadline, self._cancelled.is_set, on_line):
            return None
        host = s.host or machine.private_address()
        if not host:
            raise ConfigError(f"{machine.name} has no private IP address: set project.yaml worker.host")
        known_hosts = book.folder / "known_hosts"

        def connect(timeout_s: float = 60.0) -> Any:
            return docker_over_ssh(s.ssh_user, host, s.ssh_port, key_file, known_hosts, timeout_s)

        where = f"{s.ssh_user}@{host}:{s.ssh_port}"
        client = wait_for_docker(connect, where, deadline, self._cancelled.is_set)
        if client is None:
            return None
        client.close()
        on_line(f"the worker VM's Docker engine answers at ssh://{where}")
        return connect

    def run(self, spec: WorkSpec, on_line: Callable[[str], None]) -> WorkerOutcome:
        self.check(spec)
        what = spec.task.task_id if spec.task else (spec.image or "a container")
        project_dir = spec.task.project_dir if spec.task else (spec.cwd or Path.cwd())
        try:
            with self.session(project_dir, what, on_line) as connect:
                if connect is None:
                    return _cancelled()
                return self._run_container(connect, spec, on_line)
        except HeadraceError as exc:  # as the docker worker reports the runner's errors
            code = EXIT_PROJECT_INVALID if isinstance(exc, ConfigError) else 1
            code = EXIT_TRANSIENT if isinstance(exc, TransientError) else code
            return _failed(code, str(exc), on_line)

    def _run_container(self, connect: ClientFactory, spec: WorkSpec, on_line: Callable[[str], None]) -> WorkerOutcome:
        from headrace.workers.docker.worker import ContainerRunner

        runner = ContainerRunner(connect, self.settings, local_engine=False)
        with self._lock:
            if self._cancelled.is_set():
                return _cancelled()
            self._runner = runner
        try:
            return runner.run(spec, on_line)
        finally:
            self._runner = None

    def _stop_last(self, machine: Machine, book: LeaseBook, what: str, on_line: Callable[[str], None]) -> None:
        """The last lease went: stop the VM (under the lease lock), unless keep_running."""
        if self.settings.keep_running:
            return
        try:
            if stop_if_unused(machine, book, f"last lease gone: {what}"):
                on_line(f"stopped the worker VM, {machine.name}: no task needs it")
        except Exception as exc:  # the task's own outcome stands; the sweeper stops the VM later
            book.note(f"could not stop {machine.name}: {exc}")
            on_line(f"could not stop the worker VM, {machine.name} ({exc}); the sweeper will stop it")

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            runner = self._runner
        if runner is not None:
            runner.cancel()


def _failed(code: int, message: str, on_line: Callable[[str], None]) -> WorkerOutcome:
    on_line(message)
    return WorkerOutcome(code, False, None, [message])


def _cancelled() -> WorkerOutcome:
    return WorkerOutcome(EXIT_TERMINATED, False, None, ["cancelled while the worker VM was starting"], cancelled=True)
