"""Run a SQL transformation (DESIGN §4).

The warehouse opens a confined session for the run (``Warehouse.transformation_session``):
its working area ``tr_<id>_<run>`` holds only the declared inputs under their local names,
and the warehouse itself (roles and grants, or a separate database with external access
off) refuses anything else. The SQL files run there in name order; an assertion file's
query is checked there too (``assertions``: an ERROR row fails the task before anything is
published, WARNING rows are the task's warnings); only the declared
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
from pathlib import Path
from typing import Any

from headrace import assertions, faults
from headrace.errors import ConfigError, ProjectError, TaskFailed
from headrace.lifecycle import owner_token
from headrace.project.manifest import SqlFile, SqlStatement, TransformationTask
from headrace.results import TransformationOutcome
from headrace.transformations.sqlsplit import SqlSplitError
from headrace.transformations.transpile import TranspileError, transpile_file
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


def compile_files(
    component: str, config: Any, files: list[tuple[str, str]], dialect: str
) -> tuple[list[SqlFile], list[ProjectError]]:
    """The files' statements in the warehouse's ``dialect``, transpiled from the one the transformation
    declares (``dialect:``, default the warehouse's, passed through as written); and what stops that,
    as errors of the project (``headrace validate``, exit 2), each with its file and line."""
    source = getattr(config, "dialect", None) or dialect
    declared: list[str] = list(getattr(config, "assertions", None) or [])
    compiled: list[SqlFile] = []
    errors: list[ProjectError] = []
    names = {name for name, _ in files}
    for index, name in enumerate(declared):
        if name not in names:
            errors.append(
                ProjectError(
                    f"transformations/{component}/transformation.yaml",
                    None,
                    f"assertions[{index}]",
                    f"{name!r} is not a SQL file of this transformation",
                    "name a SQL file of this folder: " + (", ".join(sorted(names)) or "there is none"),
                )
            )
    for name, text in files:
        where = f"transformations/{component}/{name}"
        try:
            statements = transpile_file(text, source, dialect)
        except SqlSplitError as exc:
            hint = "close it; a quote inside a string is written twice ('it''s')"
            errors.append(ProjectError(where, exc.line, "", str(exc).removeprefix(f"line {exc.line}: "), hint))
            continue
        except TranspileError as exc:
            errors.append(ProjectError(where, exc.line, "", f"column {exc.column}: {exc.message}", exc.hint))
            continue
        sql = [SqlStatement(line=s.line, sql=s.sql) for s in statements]
        assertion = assertions.is_assertion(name, declared)
        if assertion and (problem := assertions.check_file(where, sql)):
            errors.append(problem)
            continue
        compiled.append(SqlFile(file=name, statements=sql, assertion=assertion))
    return compiled, errors


def run(
    warehouse: Warehouse,
    task: TransformationTask,
    run_id: str,
    log: Callable[[str], None],
    project_dir: Path | None = None,
) -> TransformationOutcome:
    """Run the task's SQL files in a fresh working schema; rows of each published output, and the
    warnings of its assertions. (``project_dir``, the project's folder, is for types that read files
    at run time, such as dbt.)"""
    tr_id = task.component
    work = f"{task.work_schema_prefix}_{run_token(run_id, task.id)}"
    inputs = {i.alias: i.table for i in task.inputs}
    if task.dialect != warehouse.capabilities.dialect:
        raise ConfigError(
            f"transformations/{tr_id}: the manifest holds SQL in {task.dialect}'s dialect and the warehouse "
            f"speaks {warehouse.capabilities.dialect}'s: compile the project again (`headrace compile`)"
        )
    # what runs is the manifest's statements: split (and transpiled) when the project was compiled
    scripts = [(f"transformations/{tr_id}/{f.file}", f) for f in task.sql]
    log(f"working schema {work} with inputs: {', '.join(f'{k} <- {v}' for k, v in inputs.items()) or 'none'}")
    expires_at = time.time() + task.timeout + 2 * KILL_GRACE_S + EXPIRY_MARGIN_S
    warehouse.register_working_schema(work, run_id, task.id, owner_token(), expires_at)
    try:
        outcome = _run_in_session(warehouse, task, work, inputs, scripts, log)
    finally:
        warehouse.unregister_working_schema(work)
    for name, count in outcome.rows.items():
        log(f"{task.target_schema}.{name}: {count:,} rows")
    return outcome


def _run_in_session(
    warehouse: Warehouse,
    task: TransformationTask,
    work: str,
    inputs: dict[str, str],
    scripts: list[tuple[str, SqlFile]],
    log: Callable[[str], None],
) -> TransformationOutcome:
    tr_id = task.component
    warnings: list[str] = []
    with warehouse.transformation_session(work, inputs, task.timeout) as session:
        faults.point("transformation.working")
        for where, file in scripts:
            for statement in file.statements:
                try:
                    if file.assertion:  # one query (compile checks it): its ERROR rows stop the run here
                        found = assertions.evaluate(session, where, statement, warehouse.capabilities.dialect)
                        warnings += assertions.report(file.file, where, found, log)
                    else:
                        session.execute(statement.sql)
                except StatementFailed as exc:  # the warehouse's own refusal, reported with file and line
                    hint = f"\n  ({HINTS[exc.kind]})" if exc.kind else ""
                    first_line = statement.sql.strip().splitlines()[0][:120]
                    failed = f"{where}: statement at line {statement.line} failed: {first_line}"
                    raise TaskFailed(f"{failed}\n  {exc.message}{hint}") from exc
            if not file.assertion:
                log(f"{file.file} done")
        not_made = "were not created by the SQL; create them (CREATE TABLE name AS ...)"
        rows = session.publish_outputs(task.target_schema, task.outputs, f"transformations/{tr_id}", not_made)
        return TransformationOutcome(rows=rows, warnings=warnings)
