"""A worker VM through its cloud's API, and the decisions to start and stop it.

Each cloud implements ``Machine`` (status, start, stop, private address) in its own
folder; the decisions are the same for all and are taken under the VM's lease lock
(``headrace.workers.vm.lease``), so concurrent tasks in several processes start the VM
once and the last one to leave stops it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal

from headrace.errors import ConfigError, TransientError
from headrace.workers.vm.lease import LeaseBook

# what the workers need to know of a cloud's power states
State = Literal["running", "starting", "stopping", "stopped", "gone"]
POLL_S = 2.0  # between looks at a VM that is starting or stopping
# a VM the cloud still shows stopped this soon after a start request is starting (the API lags behind
# the request on some clouds): it is not started a second time
START_LAG_S = 60.0


class Machine(ABC):
    """One worker VM of one cloud. The SDK is imported in the methods, never at import."""

    key: str  # unique per VM: names its lease folder (``aws_vm-eu-west-1-i-0abc...``)
    name: str  # for messages: ``EC2 instance i-0abc... (eu-west-1)``

    @abstractmethod
    def status(self) -> State: ...

    @abstractmethod
    def start(self) -> None:
        """Ask the cloud to start the VM (do not wait for it)."""

    @abstractmethod
    def stop(self) -> None:
        """Ask the cloud to stop the VM, releasing its compute (deallocate on Azure); do not wait."""

    @abstractmethod
    def private_address(self) -> str | None:
        """The VM's private IP address (where its SSH server is reached unless ``host`` is set)."""


def wait_running(
    machine: Machine, book: LeaseBook, deadline: float, cancelled: Callable[[], bool], say: Callable[[str], None]
) -> bool:
    """Start the VM if it is stopped and wait until it runs; False when cancelled first.

    The look and the start happen under the lease lock: of several tasks arriving at a
    stopped VM, one starts it, the others see it starting. A VM that is still stopping
    (the previous last task just stopped it) is started once it has stopped.
    """
    said = ""
    while True:
        with book.locked():
            state = machine.status()
            requested = book.start_requested()
            if state == "stopped" and requested is not None and time.time() - requested < START_LAG_S:
                state = "starting"
            if state == "stopped":
                say(f"starting the worker VM, {machine.name}")
                machine.start()
                book.set_start_requested(time.time())
                book.note(f"start {machine.name}")
                state = "starting"
        if state == "running":
            return True
        if state == "gone":
            raise ConfigError(
                f"the worker VM, {machine.name}, does not exist any more (terminated or deleted): "
                "recreate it with the install, or point project.yaml's worker: at the new one"
            )
        if state != said:
            say(f"the worker VM is {state}, waiting")
            said = state
        if cancelled():
            return False
        if time.monotonic() >= deadline:
            raise TransientError(
                f"the worker VM, {machine.name}, did not start within worker.start_timeout ({state} at the end); "
                "look at the VM in the cloud console (quota, capacity, boot errors)"
            )
        time.sleep(POLL_S)


def stop_if_unused(machine: Machine, book: LeaseBook, why: str) -> bool:
    """Stop a running VM (call under the lease lock).

    A VM still starting cannot be stopped on every cloud (EC2 refuses a pending instance):
    it is left to the sweeper, which stops it once it runs and has stayed idle.
    """
    state = machine.status()
    if state == "starting":
        book.note(f"left {machine.name} starting ({why}): the sweeper stops it")
    if state != "running":
        return False
    machine.stop()
    book.set_start_requested(None)
    book.note(f"stop {machine.name} ({why})")
    return True
