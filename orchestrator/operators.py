"""Thin Airflow operators: each runs one Headrace command on a worker and streams its output.

Operators hold only names and numbers from the manifest; everything happens in
``execute`` (never at parse time): pick the project version of the DAG run, build the
``headrace run-task`` command, run it on the worker, turn its outcome into success or an
exception carrying the task's own error message.

Secrets: the task process resolves and redacts its own; the operator also resolves, for
redaction only, every reference of the manifest that a local backend answers (and the
repository URL's password), hands them to Airflow's secrets masker, and passes every line
and error it logs through ``headrace.redaction.redact``. With a cloud secret manager it
fetches nothing: the task process reports each value it fetched through the mask channel
(``headrace.secrets.maskline``), which the operator redacts and hands to the masker as it
arrives. With ``secrets: {type: airflow}`` the operator looks up the task's references
(only its process reaches Airflow's metastore) and hands them to the task process as
``AIRFLOW_VAR_*``/``AIRFLOW_CONN_*`` (``headrace.orchestrator.secretbackend``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowTaskTimeout
from headrace.errors import EXIT_PROJECT_INVALID, HeadraceError
from headrace.orchestrator import settings
from headrace.redaction import redact
from headrace.secrets.maskline import MaskChannel
from headrace.workers.base import TaskCall, Worker, WorkerOutcome, WorkSpec

UPDATE_TIMEOUT_S = 900
SWEEP_TIMEOUT_S = 600


def headrace_run_id(dag_id: str, run_id: str, run_after: datetime | None, try_number: int = 1) -> str:
    """A Headrace run id shared by the tasks of one DAG run (``20250101T050000_1a2b3c``).

    Airflow's run ids hold ``:`` and ``+``, which storage keys and schema names cannot;
    a retry gets its own suffix so it never collides with what a killed try left behind.
    """
    stamp = (run_after or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    token = hashlib.sha1(f"{dag_id}/{run_id}".encode()).hexdigest()[:6]
    return f"{stamp}_{token}" + (f"_{try_number}" if try_number > 1 else "")


class _Streaming:
    """Runs a command on a worker; every output line goes to the Airflow task log.

    A mixin without ``__init__``: Airflow wraps every operator ``__init__`` in the class
    hierarchy with a step that deep-copies the DAG's params, which dominates parse time
    for a thousand tasks.
    """

    _worker: Any = None
    log: Any

    def _run(self, worker: Worker, spec: WorkSpec, channel: MaskChannel | None = None) -> WorkerOutcome:
        self._worker = worker

        def line_out(line: str) -> None:
            if channel is None or not channel.take(line):
                self.log.info("%s", redact(line))

        try:
            return worker.run(spec, line_out)
        finally:
            self._worker = None

    def on_kill(self) -> None:
        """Airflow stops the task (marked failed, cancelled, timeout, shutdown): stop the command too.

        The command gets SIGTERM, cleans up (working schema and role, temporary files) within
        the worker's grace period and is then killed; ``execute`` records why it stopped."""
        worker = self._worker
        if worker is not None:
            worker.cancel()


def _airflow_masker(value: str) -> None:
    """Hand one value to Airflow's secrets masker (its own logs and UI)."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # an Airflow without the SDK masker: our own redaction still applies
        return
    mask_secret(value)


def _mask_in_airflow() -> None:
    """Hand every value this process redacts to Airflow's secrets masker."""
    from headrace import redaction

    for value in redaction.known():
        _airflow_masker(value)


def _secrets_config(project: Path) -> dict[str, Any] | None:
    from headrace.project.manifest import read_manifest

    path = project / settings.MANIFEST_RELPATH
    try:
        return read_manifest(path).project.secrets if path.is_file() else None
    except HeadraceError:
        return None  # the task process reports a broken manifest


def _protect(project: Path) -> None:
    """Remember, for redaction, every secret and variable the project's manifest references
    that a local backend answers (cloud ones arrive through the mask channel)."""
    from headrace.secrets import SecretResolver

    manifest = project / settings.MANIFEST_RELPATH
    if manifest.is_file():
        text = manifest.read_text(encoding="utf-8")
        SecretResolver(project, _secrets_config(project)).remember_referenced(text)
    _mask_in_airflow()


def _airflow_secrets(project: Path, task_id: str) -> dict[str, str]:
    """With ``secrets: {type: airflow}``: the task's references, looked up here, as its environment."""
    from headrace.project.manifest import read_manifest
    from headrace.secrets import SECRET_REF

    path = project / settings.MANIFEST_RELPATH
    try:
        manifest = read_manifest(path)
        task = manifest.task(task_id)
    except HeadraceError:
        return {}
    if manifest.project.secrets.get("type") != "airflow":
        return {}
    from headrace.orchestrator.secretbackend.backend import handoff_env

    text = manifest.project.model_dump_json() + task.model_dump_json()
    return handoff_env(name for kind, name in SECRET_REF.findall(text) if kind == "secret")


def _task_env() -> dict[str, str]:
    state = settings.state_dir()
    return {"HEADRACE_STATE_DIR": state} if state else {}


class HeadraceTaskOperator(_Streaming, BaseOperator):
    """``headrace run-task <task>`` for one task of the manifest."""

    ui_color = "#d9ecff"

    def __init__(
        self, *, headrace_task: str, project_dir: str, worker_type: str, worker_timeout_s: int, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.headrace_task = headrace_task
        self.project_dir = project_dir
        self.worker_type = worker_type
        self.worker_timeout_s = worker_timeout_s

    def _project(self, dag_id: str, run_id: str) -> Path:
        home = settings.home()
        candidate = Path(self.project_dir)
        if home is None or os.environ.get("HEADRACE_MANIFEST"):
            return candidate
        from headrace.orchestrator.deployments import pinned_project

        project, warning = pinned_project(home, dag_id, run_id, candidate)
        if warning:
            self.log.warning("%s", warning)
        return project

    def _worker_for(self, project: Path) -> Worker:
        """The worker the task's ``runs_on`` names, through the plugin registry."""
        from headrace.project.manifest import read_manifest
        from headrace.secrets import SecretResolver
        from headrace.workers import open_worker

        try:
            manifest = read_manifest(project / settings.MANIFEST_RELPATH)
            return open_worker(
                self.worker_type, manifest.project.worker, SecretResolver(project, manifest.project.secrets)
            )
        except HeadraceError as exc:  # an unknown worker plugin, a bad worker: block: fix, do not retry
            raise AirflowFailException(redact(str(exc))) from None

    def execute(self, context: Any) -> dict[str, Any] | None:
        dag_run, ti = context["dag_run"], context["ti"]
        project = self._project(dag_run.dag_id, dag_run.run_id)
        full_refresh = bool(context["params"].get("full_refresh", False))
        run_id = headrace_run_id(dag_run.dag_id, dag_run.run_id, dag_run.run_after, ti.try_number)
        _protect(project)
        call = TaskCall(self.headrace_task, project, run_id, full_refresh)
        command = call.command()
        self.log.info("headrace %s (project version %s)", " ".join(command[3:]), project.name)
        channel = MaskChannel(on_value=_airflow_masker)
        env = {**_task_env(), **_airflow_secrets(project, self.headrace_task), **channel.env()}
        spec = WorkSpec(command, env=env, timeout_s=self.worker_timeout_s, task=call)
        worker = self._worker_for(project)
        started = time.time()
        try:
            outcome = self._run(worker, spec, channel)
        except AirflowTaskTimeout:  # Airflow's execution_timeout came first: the command was stopped
            self._record_stopped(project, run_id, "timeout", started, "stopped by Airflow's execution_timeout")
            raise
        result = outcome.task_result(self.headrace_task, self.worker_timeout_s)
        if outcome.result is None and result.status != "success":  # the command could not record itself
            status = self._record_stopped(project, run_id, result.status, started, result.error)
            if status == "success":
                self.log.info("%s: every table was loaded and committed before it stopped", self.headrace_task)
                return result.model_copy(update={"status": "success"}).model_dump(mode="json")
        if result.status == "cancelled":
            raise AirflowException(f"{self.headrace_task} was cancelled; it dropped its working schema and files")
        if outcome.timed_out:
            raise AirflowException(
                f"{self.headrace_task} was stopped after its timeout of {self.worker_timeout_s} s "
                "(raise `timeout` for it in the project, or in project.yaml defaults)"
            )
        if result.status == "success":
            self.log.info("%s: %s rows, tables %s", self.headrace_task, result.rows, result.tables)
            for warning in result.warnings:  # an assertion's WARNING rows: the task succeeded
                self.log.warning("%s: %s", self.headrace_task, redact(warning))
            return result.model_dump(mode="json")
        message = redact(result.error or f"exit code {outcome.returncode}")
        if result.error_class == "config":
            # a configuration error: retrying cannot help, so the task fails without its retries
            raise AirflowFailException(f"{message}\n(configuration error: fix the project or the deployment)")
        if result.error_class == "transient":
            raise AirflowException(f"{message}\n(transient error: retried with backoff while retries remain)")
        raise AirflowException(message)

    def _record_stopped(self, project: Path, run_id: str, status: str, started: float, error: str | None) -> str:
        """``headrace task-stopped``: the run history says timeout or cancelled; the status it recorded."""
        command = [sys.executable, "-m", "headrace", "task-stopped", self.headrace_task, "--project", str(project)]
        command += ["--run-id", run_id, "--status", status, "--started", str(started)]
        command += ["--error", error] if error else []
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=120, env={**os.environ, **_task_env()}, check=False
            )
        except subprocess.TimeoutExpired:
            self.log.warning("could not record %s as %s in the run history (timed out)", self.headrace_task, status)
            return status
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            self.log.warning("could not record %s in the run history: %s", self.headrace_task, done.stderr.strip())
            return status
        return lines[-1]


class ProjectUpdateOperator(_Streaming, BaseOperator):
    """``headrace airflow update-project``: fetch, validate, compile and switch the project."""

    ui_color = "#e6f4ea"

    def execute(self, context: Any) -> None:
        command = [sys.executable, "-m", "headrace", "airflow", "update-project"]
        from headrace.orchestrator.sources import remember_url_credentials

        remember_url_credentials(settings.source().repo)
        _mask_in_airflow()
        from headrace.workers.local import LocalWorker  # the update runs beside Airflow, never on a worker VM

        outcome = self._run(LocalWorker(), WorkSpec(command, timeout_s=UPDATE_TIMEOUT_S))
        if outcome.returncode == EXIT_PROJECT_INVALID:
            raise AirflowFailException(
                "the new project version is invalid (errors above); the running version is unchanged"
            )
        if outcome.returncode != 0 or outcome.timed_out:
            detail = "timed out" if outcome.timed_out else redact("\n".join(outcome.last_lines[-5:]))
            raise AirflowException(f"project update failed: {detail}; the running version is unchanged")


class WorkerSweepOperator(_Streaming, BaseOperator):
    """``headrace worker sweep``: remove what killed tasks left on the worker, stop an idle worker VM.

    Runs on this machine (where the leases live), never on the worker VM: a sweep must not
    be what keeps the VM running.
    """

    ui_color = "#f3e8fd"

    def __init__(self, *, project_dir: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project_dir = project_dir

    def _project(self) -> Path:
        """The deployed version now (the parsed one may have been pruned since)."""
        try:
            current = settings.locate_manifest().project_dir
        except LookupError:
            return Path(self.project_dir)
        return current if (current / settings.MANIFEST_RELPATH).is_file() else Path(self.project_dir)

    def execute(self, context: Any) -> None:
        from headrace.orchestrator.sweeper import sweep_command
        from headrace.workers.local import LocalWorker

        _mask_in_airflow()
        command = sweep_command(self._project())
        self.log.info("headrace %s", " ".join(command[3:]))
        outcome = self._run(LocalWorker(), WorkSpec(command, env=_task_env(), timeout_s=SWEEP_TIMEOUT_S))
        if outcome.returncode != 0 or outcome.timed_out:
            detail = "timed out" if outcome.timed_out else redact("\n".join(outcome.last_lines[-5:]))
            raise AirflowException(f"worker sweep failed: {detail}")


class SandboxOperator(WorkerSweepOperator):
    """``headrace sandbox <action>``: ``action`` fixed (the sweeper) or from the DAG run's parameters.

    The log shows how to connect to a new sandbox without its password (the command prints where it
    is kept: the secret store's key, and ``headrace sandbox credentials``)."""

    ui_color = "#e6f4ea"

    def __init__(self, *, project_dir: str, action: str | None = None, **kwargs: Any) -> None:
        super().__init__(project_dir=project_dir, **kwargs)
        self.action = action

    def execute(self, context: Any) -> None:
        from headrace.orchestrator.sandboxes import command
        from headrace.workers.local import LocalWorker

        _mask_in_airflow()
        params = context.get("params") or {}
        action = self.action or str(params.get("action") or "")
        try:
            args = command(self._project(), action, params.get("transformation"), params.get("user"))
        except HeadraceError as exc:
            raise AirflowFailException(str(exc)) from None
        self.log.info("headrace %s", " ".join(args[3:]))
        # a sandbox run takes as long as the transformation: the task's own timeout, not a sweep's
        timeout_s = self.execution_timeout.total_seconds() if self.execution_timeout else SWEEP_TIMEOUT_S
        outcome = self._run(LocalWorker(), WorkSpec(args, env=_task_env(), timeout_s=timeout_s))
        if outcome.returncode != 0 or outcome.timed_out:
            detail = "timed out" if outcome.timed_out else redact("\n".join(outcome.last_lines[-5:]))
            raise AirflowException(f"headrace sandbox {action} failed: {detail}")


class FailWhenUpstreamFailedOperator(BaseOperator):
    """Last task of a ``continue_on_error`` orchestration: runs only if a task failed, and fails.

    Later steps run despite failures there, so Airflow would otherwise mark the run
    successful as long as its last tasks succeeded.
    """

    ui_color = "#fde2e1"

    def execute(self, context: Any) -> None:
        raise AirflowFailException(
            "a task of this orchestration failed (see the failed tasks); later steps still ran "
            "because the orchestration has continue_on_error"
        )
