"""What ``headrace sandbox ...`` does, on an open warehouse and a compiled manifest.

A sandbox is named once, at ``create``: ``sb_<user>__<transformation>`` cut to the warehouse's
identifier limit with a hash (``short_name``), and recorded in ``headrace_meta.sandboxes``; every
later command finds it there by user and transformation. The registry row is written before
anything is made, so a create that dies half-way is still found (and dropped) by the sweep.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from headrace import assertions
from headrace.errors import ConfigError, TaskFailed
from headrace.project.manifest import Manifest, SqlFile, TransformationTask
from headrace.sandboxes import registry
from headrace.sandboxes.registry import Entry
from headrace.sqltext import short_name
from headrace.warehouses.base import SandboxLogin, SandboxSession, StatementFailed, Warehouse
from headrace.warehouses.common.sqlwarehouse import SqlWarehouse

PREFIX = "sb_"
# lowercase words joined by single underscores: "__" separates user and transformation in the name
USER = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
USER_MAX = 32
USER_HINT = "lowercase letters and digits, words joined by single underscores, starting with a letter (e.g. jan_novak)"
HINTS = {
    "denied": "a sandbox reads only its transformation's declared inputs and writes only its own schema",
    "missing": "a sandbox holds only the transformation's declared inputs, under their names (as:)",
}


def check_user(user: str) -> str:
    if len(user) > USER_MAX or not USER.fullmatch(user):
        raise ConfigError(
            f"--user {user!r} is not a valid sandbox user name: {USER_HINT}, at most {USER_MAX} characters"
        )
    return user


def transformation(manifest: Manifest, tr_id: str) -> TransformationTask:
    task = manifest.tasks.get(f"transformation:{tr_id}")
    if not isinstance(task, TransformationTask):
        known = sorted(t.component for t in manifest.tasks.values() if isinstance(t, TransformationTask))
        raise ConfigError(f"no transformation {tr_id!r} in the project; known: {', '.join(known) or 'none'}")
    return task


def _inputs(wh: Warehouse, manifest: Manifest, task: TransformationTask) -> dict[str, str]:
    """The task's inputs (local name -> schema.table); a clear error for one that is not loaded yet."""
    for ref in task.inputs:
        schema, table = ref.table.split(".")
        if not wh.table_exists(schema, table):
            writers = [t.id for t in manifest.tasks.values() if ref.table in t.writes]
            how = f"run `headrace run {writers[0]}` first" if writers else "load it first"
            raise ConfigError(f"input {ref.table} of transformation {task.component} does not exist yet: {how}")
    return {i.alias: i.table for i in task.inputs}


def sandbox_name(wh: Warehouse, user: str, tr_id: str) -> str:
    return short_name(PREFIX, f"{user}__{tr_id}", wh.capabilities.max_identifier_length)


def _sql_warehouse(wh: Warehouse) -> SqlWarehouse:
    if not wh.capabilities.sandboxes or not isinstance(wh, SqlWarehouse):
        raise wh.no_sandboxes()
    return wh


def _existing(wh: SqlWarehouse, user: str, tr_id: str) -> Entry:
    entry = registry.find(wh, user, tr_id)
    if entry is None:
        raise ConfigError(
            f"{user} has no sandbox of transformation {tr_id}: create it with "
            f"`headrace sandbox create {tr_id} --user {user}` (`headrace sandbox list` shows the sandboxes)"
        )
    return entry


def create(wh: Warehouse, manifest: Manifest, tr_id: str, user: str) -> SandboxLogin:
    task = transformation(manifest, tr_id)
    check_user(user)
    sql_wh = _sql_warehouse(wh)
    found = registry.find(sql_wh, user, tr_id)
    if found is not None:
        raise ConfigError(
            f"{user} has a sandbox of transformation {tr_id} already ({found.name}): use it "
            f"(`headrace sandbox credentials {tr_id} --user {user}`), or drop it first "
            f"(`headrace sandbox drop {tr_id} --user {user}`)"
        )
    inputs = _inputs(wh, manifest, task)
    name = sandbox_name(wh, user, tr_id)
    taken = registry.by_name(sql_wh, name)
    if taken is not None:
        raise ConfigError(f"the sandbox name {name} is taken by {taken.user}'s sandbox of {taken.transformation}")
    registry.add(sql_wh, name, user, tr_id)
    try:  # a failed create leaves nothing behind (each warehouse's create cleans up after itself)
        return wh.create_sandbox(name, inputs)
    except BaseException:
        registry.remove(sql_wh, name)
        raise


def login(wh: Warehouse, tr_id: str, user: str, with_password: bool) -> SandboxLogin:
    entry = _existing(_sql_warehouse(wh), check_user(user), tr_id)
    return wh.sandbox_login(entry.name, with_password)


def run(wh: Warehouse, manifest: Manifest, tr_id: str, user: str, log: Callable[[str], None]) -> dict[str, int]:
    """Run the transformation's compiled SQL in the sandbox, as the sandbox's login; nothing is
    published. What it made (the sandbox's own tables and views, rows of each)."""
    task = transformation(manifest, tr_id)
    sql_wh = _sql_warehouse(wh)
    entry = _existing(sql_wh, check_user(user), tr_id)
    if task.container is not None or task.dbt is not None or not task.sql:
        raise ConfigError(
            f"transformation {tr_id} is not a SQL transformation: `headrace sandbox run` runs SQL files; "
            "query the sandbox from a SQL client instead"
        )
    if task.dialect != wh.capabilities.dialect:
        raise ConfigError(f"the manifest holds SQL in {task.dialect}'s dialect: compile the project again")
    inputs = _inputs(wh, manifest, task)
    registry.touch(sql_wh, [entry.name])
    with wh.sandbox_session(entry.name, inputs, task.timeout) as session:
        session.reset()
        log(f"sandbox {entry.name}: removed what earlier runs made; running {len(task.sql)} file(s)")
        for sql_file in task.sql:
            where = f"transformations/{tr_id}/{sql_file.file}"
            if sql_file.assertion:
                _assert(session, where, sql_file, wh.capabilities.dialect, log)
                continue
            for statement in sql_file.statements:
                try:
                    session.execute(statement.sql)
                except StatementFailed as exc:
                    hint = f"\n  ({HINTS[exc.kind]})" if exc.kind else ""
                    first = statement.sql.strip().splitlines()[0][:120]
                    raise TaskFailed(
                        f"{where}: statement at line {statement.line} failed: {first}\n  {exc.message}{hint}"
                    ) from exc
            log(f"{sql_file.file} done")
        made = session.made()
    registry.touch(sql_wh, [entry.name])
    return made


def _assert(session: SandboxSession, where: str, sql_file: SqlFile, dialect: str, log: Callable[[str], None]) -> None:
    """Show what an assertion file finds; in the sandbox an ERROR row stops nothing (a run of the
    transformation would stop there, before publishing)."""
    try:
        outcome = assertions.evaluate(session, where, sql_file.statements[0], dialect)
    except StatementFailed as exc:
        raise TaskFailed(f"{where}: the assertion query failed\n  {exc.message}") from exc
    for kind in ("ERROR", "WARNING"):
        for message in outcome.messages[kind]:
            log(f"{sql_file.file}: {message}")
    errors, warnings = outcome.counts["ERROR"], outcome.counts["WARNING"]
    verdict = "passed" if not errors and not warnings else f"{errors:,} ERROR and {warnings:,} WARNING row(s)"
    stops = " (a run of the transformation stops here, before publishing)" if errors else ""
    log(f"{sql_file.file}: assertion {verdict}{stops}")


def drop(wh: Warehouse, tr_id: str, user: str) -> str:
    entry = _existing(_sql_warehouse(wh), check_user(user), tr_id)
    drop_entry(wh, entry.name)
    return entry.name


def drop_entry(wh: Warehouse, name: str) -> None:
    """The sandbox, its login and stored password, then its registry row (so a failure is retried)."""
    wh.drop_sandbox(name)
    registry.remove(_sql_warehouse(wh), name)


def entries(wh: Warehouse) -> list[Entry]:
    return registry.entries(_sql_warehouse(wh))


def sweep(wh: Warehouse, idle_s: int, log: Callable[[str], None], now: float | None = None) -> list[str]:
    """Drop the sandboxes idle for more than ``idle_s`` seconds; their names. A sandbox whose
    login has a session open now counts as used now."""
    sql_wh = _sql_warehouse(wh)
    names = [e.name for e in registry.entries(sql_wh)]
    busy = sorted(wh.sandboxes_in_use(names)) if names else []
    registry.touch(sql_wh, busy)
    dropped = []
    for entry in registry.idle(sql_wh, idle_s, time.time() if now is None else now):
        log(
            f"dropping sandbox {entry.name} of {entry.user} ({entry.transformation}): unused since {entry.last_used_at}"
        )
        drop_entry(wh, entry.name)
        dropped.append(entry.name)
    return dropped
