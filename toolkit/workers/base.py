"""The worker protocol (DESIGN §5): where a task's process runs.

A worker starts a task (a command, or a container image on workers that run images),
with its environment and working directory; streams its output lines; returns its exit
status and its typed ``TaskResult``; and can be cancelled from another thread (Airflow's
``on_kill``, a timeout). ``local`` runs a subprocess; containers and VMs implement the
same class.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from headrace.errors import ConfigError
from headrace.results import TaskResult, error_class_of_exit

KILL_GRACE_S = 10.0  # between TERM and KILL when a task is stopped: the task cleans up in this time
EXIT_TERMINATED = 143  # 128 + SIGTERM: the task was stopped, cleaned up and recorded nothing itself
PARENT_PID_ENV = "HEADRACE_PARENT_PID"  # the task stops itself when this process is no longer its parent
HOST_ID_ENV = "HEADRACE_HOST_ID"  # names a task's pid namespace when the host name does not (containers)


def run_task_command(task_id: str, project_dir: Path, run_id: str, full_refresh: bool = False) -> list[str]:
    """``headrace run-task`` with this interpreter: what every worker runs for a task."""
    cmd = [sys.executable, "-m", "headrace", "run-task", task_id, "--project", str(project_dir), "--run-id", run_id]
    return [*cmd, "--full-refresh"] if full_refresh else cmd


@dataclass(frozen=True)
class WorkerCapabilities:
    runs_images: bool  # can start a container image (``WorkSpec.image``)
    # the task runs on another machine (a worker VM): it reaches only network storage and warehouses,
    # never this machine's files (a local storage folder, a DuckDB file)
    remote: bool = False
    starts_machine: bool = False  # starts (and stops) a VM for its tasks: keep in-warehouse tasks off it


@dataclass(frozen=True)
class TaskCall:
    """A task of the manifest, as ``headrace run-task`` takes it.

    ``WorkSpec.command`` is that command for this machine (this interpreter, this project
    folder); a worker that runs the task elsewhere (a container, a VM) builds the command
    for that place from this instead, with the project folder copied there.
    """

    task_id: str
    project_dir: Path
    run_id: str
    full_refresh: bool = False

    def command(self) -> list[str]:
        return run_task_command(self.task_id, self.project_dir, self.run_id, self.full_refresh)

    def args(self, project_dir: str) -> list[str]:
        """``run-task ...`` after the ``headrace`` executable, with the project at ``project_dir``."""
        args = ["run-task", self.task_id, "--project", project_dir, "--run-id", self.run_id]
        return [*args, "--full-refresh"] if self.full_refresh else args


DATA_DIR = "/data"  # the container contract (docs/components.md): /data/config.json, /data/in, /data/out


@dataclass(frozen=True)
class WorkSpec:
    """What to run: ``command`` (argv), run as it is or inside ``image`` where the worker runs images.

    ``task`` names the Headrace task when the command is ``headrace run-task``: workers that
    run it in a container use it (and the worker image) instead of ``command``.
    ``data_in``/``data_out`` are for component images (``type: container``): the folder
    ``data_in`` is copied to ``DATA_DIR`` in the container before it starts, and the
    container's ``DATA_DIR/out`` is copied into ``data_out`` after it ends (both streamed,
    through the worker's API, so they work on a remote engine too).
    ``env`` may hold secret values: a worker hands them to the process or container when it
    starts and never writes them to a file or an image.
    """

    command: list[str]
    env: dict[str, str] = field(default_factory=dict)  # added to the worker's own environment
    cwd: Path | None = None
    timeout_s: float | None = None  # stopped (TERM, then KILL) after this long
    image: str | None = None
    task: TaskCall | None = None
    data_in: Path | None = None
    data_out: Path | None = None
    labels: dict[str, str] = field(default_factory=dict)  # on the container, e.g. the task and run ids


@dataclass
class WorkerOutcome:
    returncode: int
    timed_out: bool
    result: TaskResult | None  # the task's ``HEADRACE_RESULT`` line, if it printed one
    last_lines: list[str]  # the output's tail, for messages when there is no result
    cancelled: bool = False  # stopped by ``Worker.cancel`` (Airflow's on_kill, an interrupted run)

    def task_result(self, task_id: str, timeout_s: float | None) -> TaskResult:
        """The task's typed result; one made from the exit status when the process printed none.

        The task's own result wins when it printed one (it finished before it was stopped);
        otherwise the parent knows why the task ended: its timeout, a cancel, or a stop
        from outside (``EXIT_TERMINATED``).
        """
        if self.result is not None and self.result.task_id == task_id:
            return self.result
        if self.timed_out:
            error = f"stopped after the task timeout of {timeout_s} s"
            return TaskResult(task_id=task_id, status="timeout", error=error, error_class="transient")
        if self.cancelled or self.returncode == EXIT_TERMINATED:
            return TaskResult(task_id=task_id, status="cancelled", error="stopped before it finished")
        if self.returncode == 0:
            return TaskResult(task_id=task_id, status="success")
        from headrace.secrets.maskline import MASK_PREFIX

        shown = [line for line in self.last_lines if not line.startswith(MASK_PREFIX)]  # sealed: no use in a message
        error = "\n".join(shown[-5:]) or f"exit code {self.returncode}"
        error_class = error_class_of_exit(self.returncode)
        return TaskResult(task_id=task_id, status="failed", error=error, error_class=error_class)


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
        """Start the task, call ``on_line`` with each output line, and wait for its end.

        The task's environment holds ``PARENT_PID_ENV`` (this process's pid) where the task
        runs on this machine, so it stops itself when this process dies."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop the running task (from another thread); ``run`` then returns its outcome."""
