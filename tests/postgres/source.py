"""A PostgreSQL source for tests: a database on the session's server, an extractor file for it,
a gate that pauses a COPY at a chosen row, and exact comparison of source and destination."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import write_files
from tests.pgserver import PgServer, source_user

GATE_SQL = """
CREATE TABLE IF NOT EXISTS hr_gate_on (at_id bigint);
CREATE OR REPLACE FUNCTION hr_gate(i bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    -- pause a running COPY (never the cursor query) at the row the test chose
    IF current_query() LIKE 'COPY%' AND EXISTS (SELECT 1 FROM hr_gate_on WHERE at_id = i) THEN
        PERFORM pg_sleep(600);
    END IF;
    RETURN true;
END $$;
"""


def execute(
    server: PgServer, database: str, sql: str, params: Any = None, user: str = "postgres"
) -> list[tuple[Any, ...]]:
    with server.connect(database, user=user) as con, con.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def extractor_yaml(server: PgServer, database: str, tables: list[dict[str, Any]], **extra: Any) -> str:
    user = source_user(server, database)  # read-only: CONNECT, USAGE, SELECT
    connection = {**server.config(database, user=user), "password": "${secret:source_password}"}
    return yaml.safe_dump({"type": "postgres", "connection": connection, **extra, "tables": tables}, sort_keys=False)


def write_project(
    root: Path,
    project_yaml: str,
    server: PgServer,
    database: str,
    tables: list[dict[str, Any]],
    files: dict[str, str] | None = None,
    **extra: Any,
) -> Path:
    return write_files(
        root,
        {
            "project.yaml": project_yaml,
            "extractors/src.yaml": extractor_yaml(server, database, tables, **extra),
            **(files or {}),
        },
    )


def source_env(server: PgServer) -> dict[str, str]:
    return {"HEADRACE_SECRET_SOURCE_PASSWORD": server.password}


def start_task(project: Path, run_id: str, faults: str | None = None) -> subprocess.Popen[str]:
    """``headrace run-task extractor:src`` in its own process group (compile first)."""
    subprocess.run([sys.executable, "-m", "headrace", "compile", str(project)], check=True, capture_output=True)
    env = {**os.environ, **({"HEADRACE_FAULTS": faults} if faults else {})}
    return subprocess.Popen(
        [sys.executable, "-m", "headrace", "run-task", "extractor:src", "--project", str(project), "--run-id", run_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env=env,
    )


def wait_for_gate(server: PgServer, database: str, proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """Wait until a COPY of ``database`` sleeps in the gate; its backend pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = execute(
            server,
            "postgres",
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event = 'PgSleep'",
            (database,),
        )
        if found:
            return int(found[0][0])
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"the task ended before reaching the gate:\n{output}")
        time.sleep(0.05)
    raise AssertionError("the extract never reached the gate")


def kill(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    return out


def kill_during_extract(server: PgServer, database: str, project: Path, at_id: int) -> None:
    """SIGKILL a run while its COPY is paused at row ``at_id`` (parts may be half written)."""
    execute(server, database, "INSERT INTO hr_gate_on VALUES (%s)", (at_id,))
    proc = start_task(project, "killed_extract")
    try:
        backend = wait_for_gate(server, database, proc)
        kill(proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        execute(server, database, "DELETE FROM hr_gate_on")
    execute(server, "postgres", "SELECT pg_terminate_backend(%s)", (backend,))


def kill_during_load(project: Path) -> None:
    """SIGKILL a run at the load's failpoint, its transaction open."""
    proc = start_task(project, "killed_load", faults="load.before_commit")
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("FAULT load.before_commit"):
            break
    else:
        raise AssertionError("the load never reached its failpoint:\n" + "".join(seen))
    kill(proc)
