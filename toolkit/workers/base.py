"""The worker protocol (DESIGN §5): where a task's process runs.

A worker starts a task (a command, or a container image on workers that run images),
with its environment and working directory; streams its output lines; returns its exit
status and its typed ``TaskResult``; and can be cancelled from another thread (Airflow's
``on_kill``, a timeout). ``local`` runs a subprocess; containers and VMs implement the
same class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from headrace.errors import ConfigError
from headrace.results import TaskResult


@dataclass(frozen=True)
class WorkerCapabilities:
    runs_images: bool  # can start a container image (``WorkSpec.image``)


@dataclass(frozen=True)
class WorkSpec:
    """What to run: ``command`` (argv), run as it is or inside ``image`` where the worker runs images."""

    command: list[str]
    env: dict[str, str] = field(default_factory=dict)  # added to the worker's own environment
    cwd: Path | None = None
    timeout_s: float | None = None  # stopped (TERM, then KILL) after this long
    image: str | None = None


@dataclass
class WorkerOutcome:
    returncode: int
    timed_out: bool
    result: TaskResult | None  # the task's ``HEADRACE_RESULT`` line, if it printed one
    last_lines: list[str]  # the output's tail, for messages when there is no result


class Worker(ABC):
    capabilities: WorkerCapabilities

    def check(self, spec: WorkSpec) -> None:
        if spec.image and not self.capabilities.runs_images:
            raise ConfigError(
                f"the {type(self).__name__} runs processes, not container images ({spec.image}): "
                "choose a worker that runs images in project.yaml (worker: type: ...)"
            )

    @abstractmethod
    def run(self, spec: WorkSpec, on_line: Callable[[str], None]) -> WorkerOutcome:
        """Start the task, call ``on_line`` with each output line, and wait for its end."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop the running task (from another thread); ``run`` then returns its outcome."""
