"""run, run-task, query, history."""

from __future__ import annotations

import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from headrace.cli.output import console
from headrace.errors import ConfigError, TaskFailed

if TYPE_CHECKING:
    from headrace.project.manifest import Manifest
    from headrace.results import TaskResult
    from rich.console import Console

PROJECT_OPT = click.option(
    "-p",
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    envvar="HEADRACE_PROJECT_DIR",
    show_default=True,
    help="project folder",
)


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:6]


@click.command()
@click.argument("targets", nargs=-1)
@PROJECT_OPT
@click.option("--full-refresh", is_flag=True, help="reload incremental and append tables from scratch")
@click.option("--run-id", default=None, help="default: a new timestamped id")
def run(targets: tuple[str, ...], project: Path, full_refresh: bool, run_id: str | None) -> None:
    """Run the whole project, an orchestration or components, here.

    TARGETS: extractor:ID, transformation:ID, datamart:ID, orchestration:ID, or a bare
    id that names one of them. No target runs everything in dependency order.

    Ctrl-C or SIGTERM stops the running tasks (each drops its working schema and temporary
    files), records them as cancelled and exits 130 (143 for SIGTERM).
    """
    from headrace.executor import run_plan
    from headrace.plan import plan_for
    from headrace.project.compile import compile_project
    from headrace.project.manifest import read_manifest

    manifest = read_manifest(compile_project(project))
    plan = plan_for(manifest, list(targets))
    run_id = run_id or new_run_id()
    out = console()
    out.print(f"[bold]{manifest.project.name}[/bold]: {plan.name} (run {run_id}, {len(plan.tasks())} tasks)")
    started = time.monotonic()
    stopped_by = _stop_on_sigterm()
    try:
        results = run_plan(
            plan,
            manifest,
            project.resolve(),
            run_id,
            full_refresh,
            echo=lambda task, line: out.print(f"[{task}] {line}", markup=False),
        )
    except KeyboardInterrupt:
        signal_name = stopped_by[0] if stopped_by else "SIGINT"
        console(stderr=True).print(
            f"interrupted ({signal_name}): the running tasks were stopped and recorded as cancelled "
            f"(headrace history); run {run_id} did not finish",
            style="red",
            markup=False,
        )
        raise click.exceptions.Exit(143 if stopped_by else 130) from None
    _summary(out, results, time.monotonic() - started)
    _published(out, manifest, project, [r.task_id for r in results if r.status == "success"])
    failed = [r for r in results if r.status not in ("success",)]
    if failed:
        skipped = sum(r.status == "skipped" for r in failed)
        message = f"{len(failed) - skipped} task(s) failed, {skipped} skipped"
        if all(r.error_class == "config" for r in failed if r.status != "skipped"):
            raise ConfigError(message + ": configuration errors, fix them before running again")
        raise TaskFailed(message)


def _stop_on_sigterm() -> list[str]:
    """SIGTERM interrupts the run like Ctrl-C; the list names the signal once one arrived.

    SIGINT gets Python's own handler back too: a process started in the background of a
    non-interactive shell (``nohup``, CI runners) inherits SIGINT as ignored, and Python then
    leaves it ignored, so a SIGINT to ``headrace run`` would not stop its tasks."""
    import signal

    seen: list[str] = []

    def handler(signum: int, frame: object) -> None:
        if not seen:
            seen.append("SIGTERM")
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return seen


def _summary(out: Console, results: list[TaskResult], elapsed: float) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"finished in {elapsed:.1f} s", title_justify="left")
    for column in ("task", "status", "rows", "seconds", "tables"):
        table.add_column(column, justify="right" if column in ("rows", "seconds", "tables") else "left")
    for r in results:
        style = {"success": "green", "skipped": "yellow"}.get(r.status, "red")
        table.add_row(
            r.task_id,
            f"[{style}]{r.status}[/{style}]",
            f"{r.rows:,}" if r.rows is not None else "",
            f"{r.duration_s:.1f}",
            str(len(r.tables)) if r.tables else "",
        )
    out.print(table)
    for r in results:
        if r.status in ("failed", "timeout", "cancelled") and r.error:
            out.print(f"[red]{r.task_id}[/red]: {escape(r.error)}", highlight=False)
        elif r.status == "skipped" and r.error:
            out.print(f"[yellow]{r.task_id}[/yellow]: {escape(r.error)}", highlight=False)
        for warning in r.warnings:
            out.print(f"[yellow]{r.task_id}[/yellow]: warning: {escape(warning)}", highlight=False)


def _published(out: Console, manifest: Manifest, project: Path, done: list[str]) -> None:
    """Row counts of the datamart tables this run published, and how to query them."""
    from headrace.project.manifest import DatamartTask
    from headrace.runner import open_project_warehouse

    tables = [
        f"{task.target_schema}.{t.name}"
        for tid in done
        if isinstance(task := manifest.tasks[tid], DatamartTask)
        for t in task.tables
    ]
    if not tables:
        return
    with open_project_warehouse(manifest, project) as wh:
        counts = {t: wh.query(f"SELECT count(*) FROM {wh.qualified(*t.split('.'))}")[1][0][0] for t in tables}
    lines = "\n".join(f"  {t}: {n:,} rows" for t, n in counts.items())
    out.print(
        f'Datamarts:\n{lines}\nQuery: headrace query --project {project} "select * from {tables[0]} limit 10"',
        highlight=False,
        markup=False,
    )


@click.command(name="run-task")
@click.argument("task_id")
@PROJECT_OPT
@click.option("--run-id", required=True)
@click.option("--full-refresh", is_flag=True)
@click.option(
    "--manifest", type=click.Path(dir_okay=False, path_type=Path), help="default: PROJECT/.headrace/manifest.json"
)
def run_task_cmd(task_id: str, project: Path, run_id: str, full_refresh: bool, manifest: Path | None) -> None:
    """Run one task of a compiled manifest (what workers and Airflow call).

    Prints the task's log lines, then one HEADRACE_RESULT line; exits 0 on success, 2 on a
    configuration error (do not retry), 75 on a transient error (retry later), 1 otherwise.
    On SIGTERM or SIGINT (or when the process that started it dies) it drops its working
    schema and temporary files and exits 143 without a result line.
    """
    from headrace import lifecycle
    from headrace.errors import ConfigError
    from headrace.paths import manifest_path
    from headrace.project.manifest import read_manifest
    from headrace.results import EXIT_CODES, TaskResult
    from headrace.runner import TaskError, run_task
    from headrace.workers import handoff

    handoff.receive()  # in a container: its environment comes through stdin, not its configuration

    def log(line: str) -> None:
        try:
            print(line, flush=True)  # stdout redacts (headrace.redaction.install)
        except (BrokenPipeError, ValueError):  # the reader is gone (its parent died): keep working quietly
            _silence_stdout()

    lifecycle.install()
    started = time.monotonic()
    try:
        data = read_manifest(manifest or manifest_path(project))
        result = run_task(data, task_id, project, run_id, full_refresh, log)
    except (TaskError, ConfigError) as exc:
        error_class = exc.error_class if isinstance(exc, TaskError) else "config"
        message = str(exc)  # TaskError's is redacted; the stream redacts the rest
        failed = TaskResult(
            task_id=task_id,
            status="failed",
            error=message,
            error_class=error_class,
            duration_s=round(time.monotonic() - started, 3),
        )
        _print_result(failed.to_line())
        raise click.exceptions.Exit(_report(message, EXIT_CODES[error_class])) from None
    except lifecycle.Terminated as stop:
        _print_result(f"stopped ({stop.reason}); its working schema and temporary files were removed")
        lifecycle.exit_terminated()
    _print_result(result.to_line())


@click.command(name="task-stopped", hidden=True)
@click.argument("task_id")
@PROJECT_OPT
@click.option("--run-id", required=True)
@click.option("--status", type=click.Choice(["timeout", "cancelled", "failed"]), required=True)
@click.option("--started", type=float, required=True, help="epoch seconds the stopped attempt started")
@click.option("--error", default=None)
def task_stopped(task_id: str, project: Path, run_id: str, status: str, started: float, error: str | None) -> None:
    """Record a task its parent stopped (the Airflow operator calls this); prints the status recorded."""
    from headrace.history import record_stopped
    from headrace.paths import manifest_path
    from headrace.project.manifest import read_manifest

    manifest = read_manifest(manifest_path(project))
    print(record_stopped(manifest, project, run_id, task_id, status, started, error))


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _print_result(line: str) -> None:
    try:
        print(line, flush=True)
    except (BrokenPipeError, ValueError):
        _silence_stdout()


def _report(message: str, code: int) -> int:
    console(stderr=True).print(f"error: {message}", style="red", markup=False)
    return code


@click.command()
@click.argument("sql")
@PROJECT_OPT
@click.option("--limit", default=100, show_default=True, help="rows to show")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def query(sql: str, project: Path, limit: int, fmt: str) -> None:
    """Run SQL against the project's warehouse and show the result."""
    from headrace.paths import manifest_path
    from headrace.project.manifest import read_manifest
    from headrace.runner import open_project_warehouse

    path = manifest_path(project)
    if not path.is_file():
        raise TaskFailed(f"{path} does not exist: run `headrace compile` or `headrace run` first")
    with open_project_warehouse(read_manifest(path), project) as wh:
        columns, rows = wh.query(sql, limit)
    _print_rows(columns, rows, fmt)


def _print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str, ensure_ascii=False))
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        from headrace.redaction import redact
        from rich.table import Table

        table = Table()
        for column in columns:
            table.add_column(column)
        for row in rows:  # redacted before the table wraps a cell across lines (stdout sees it cut)
            table.add_row(*("NULL" if v is None else redact(str(v)) for v in row))
        console().print(table)


@click.command()
@PROJECT_OPT
@click.option("--limit", default=20, show_default=True)
def history(project: Path, limit: int) -> None:
    """Show the latest task runs from headrace_meta.task_runs."""
    ctx = click.get_current_context()
    ctx.invoke(
        query,
        sql="SELECT run_id, task_id, status, rows, duration_s, started_at, error FROM headrace_meta.task_runs "
        f"ORDER BY started_at DESC LIMIT {int(limit)}",
        project=project,
        limit=limit,
        fmt="table",
    )


COMMANDS = [run, run_task_cmd, task_stopped, query, history]
