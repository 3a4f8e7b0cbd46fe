"""Run a SQL transformation (DESIGN §4).

The warehouse opens a confined session for the run (``Warehouse.transformation_session``):
its working area ``tr_<id>_<run>`` holds only the declared inputs under their local names,
and the warehouse itself (roles and grants, or a separate database with external access
off) refuses anything else. The SQL files run there in name order; only the declared
outputs are copied to ``out_<id>``, all or nothing; the working area is removed afterwards,
also on failure or when the task is stopped. Nothing here reads the SQL to decide what it
may do. The working area is registered in ``headrace_meta.working_schemas`` until its
task's timeout has surely passed, so a sweep removes it if the task was killed before
removing it, and never while the task runs.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from headrace import faults
from headrace.errors import ConfigError, ProjectError, TaskFailed
from headrace.lifecycle import owner_token
from headrace.project.manifest import TransformationTask
from headrace.transformations.sqlsplit import SqlSplitError, Statement, split_statements
from headrace.warehouses.base import StatementFailed, Warehouse
from headrace.workers.base import KILL_GRACE_S

HINTS = {
    "denied": (
        "a transformation reads only the inputs declared in transformation.yaml and writes only its working schema"
    ),
    "missing": "a transformation sees only the inputs declared in transformation.yaml, under their names (as:)",
}
# beyond the timeout and the stop grace: a registration past it is a leftover
EXPIRY_MARGIN_S = 60


def run_token(run_id: str, task_id: str) -> str:
    return hashlib.sha1(f"{run_id}/{task_id}".encode()).hexdigest()[:8]


def _statements(where: str, text: str, dialect: str) -> list[Statement]:
    """The file's statements as the warehouse's dialect reads them; a file that cannot be split
    is the project's to fix (exit 2, no retry), found before the working schema exists."""
    try:
        return split_statements(text, dialect)
    except SqlSplitError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def check(component: str, files: list[tuple[str, str]], dialect: str) -> list[ProjectError]:
    """``headrace validate``: every SQL file splits into statements in the warehouse's dialect."""
    errors = []
    for name, text in files:
        try:
            split_statements(text, dialect)
        except SqlSplitError as exc:
            hint = "close it; a quote inside a string is written twice ('it''s')"
            message = str(exc).removeprefix(f"line {exc.line}: ")
            errors.append(ProjectError(f"transformations/{component}/{name}", exc.line, "", message, hint))
    return errors


def run(warehouse: Warehouse, task: TransformationTask, run_id: str, log: Callable[[str], None]) -> dict[str, int]:
    """Run the task's SQL files in a fresh working schema; rows of each published output."""
    tr_id = task.component
    work = f"{task.work_schema_prefix}_{run_token(run_id, task.id)}"
    inputs = {i.alias: i.table for i in task.inputs}
    dialect = warehouse.capabilities.dialect
    scripts: list[tuple[str, str, list[Statement]]] = []  # (file, where, statements): all split before running
    for sql_file in task.sql:
        where = f"transformations/{tr_id}/{sql_file.file}"
        scripts.append((sql_file.file, where, _statements(where, sql_file.text, dialect)))
    log(f"working schema {work} with inputs: {', '.join(f'{k} <- {v}' for k, v in inputs.items()) or 'none'}")
    expires_at = time.time() + task.timeout + 2 * KILL_GRACE_S + EXPIRY_MARGIN_S
    warehouse.register_working_schema(work, run_id, task.id, owner_token(), expires_at)
    try:
        rows = _run_in_session(warehouse, task, work, inputs, scripts, log)
    finally:
        warehouse.unregister_working_schema(work)
    for name, count in rows.items():
        log(f"{task.target_schema}.{name}: {count:,} rows")
    return rows


def _run_in_session(
    warehouse: Warehouse,
    task: TransformationTask,
    work: str,
    inputs: dict[str, str],
    scripts: list[tuple[str, str, list[Statement]]],
    log: Callable[[str], None],
) -> dict[str, int]:
    tr_id = task.component
    with warehouse.transformation_session(work, inputs, task.timeout) as session:
        faults.point("transformation.working")
        for file, where, statements in scripts:
            for statement in statements:
                try:
                    session.execute(statement.sql)
                except StatementFailed as exc:  # the warehouse's own refusal, reported with file and line
                    hint = f"\n  ({HINTS[exc.kind]})" if exc.kind else ""
                    failed = f"{where}: statement at line {statement.line} failed: {statement.first_line}"
                    raise TaskFailed(f"{failed}\n  {exc.message}{hint}") from exc
            log(f"{file} done")
        missing = [o for o in task.outputs if not session.table_exists(o)]
        if missing:
            raise TaskFailed(
                f"transformations/{tr_id}: declared output(s) {', '.join(missing)} were not created by the SQL; "
                "create them (CREATE TABLE name AS ...) or remove them from outputs"
            )
        try:
            return session.publish(task.target_schema, task.outputs)
        except (TaskFailed, StatementFailed) as exc:
            raise TaskFailed(f"transformations/{tr_id}: {exc}") from exc
