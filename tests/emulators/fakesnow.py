"""fakesnow server (Snowflake SQL on DuckDB), installed in .venvs/fakesnow by tests/setup.d/32-fakesnow.sh
and started through ``fakesnow_server.py`` (what it changes in fakesnow, and why, is written there).

The connector reaches it with ``host=127.0.0.1, port=PORT, protocol=http`` and any account, user
and password; each database name is created on first login. ``statements(server)`` reads the
statement log: every statement the server received, in order (the HTTP boundary of the tests
that check what fakesnow does not enforce, such as grants)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.emulators import server

PYTHON = server.VENVS / "fakesnow" / "bin" / "python"
SCRIPT = Path(__file__).with_name("fakesnow_server.py")
LOG = "statements.jsonl"


def _ready(port: int):  # type: ignore[no-untyped-def]
    return server.http_ready(f"http://127.0.0.1:{port}/session")


def start(log_dir: Path) -> server.Server:
    if not PYTHON.exists():
        raise RuntimeError(f"{PYTHON} is missing: run tests/setup.d/32-fakesnow.sh (./install.sh test does)")
    return server.start(
        "fakesnow",
        lambda port: [str(PYTHON), "-P", str(SCRIPT), str(port), str(log_dir / LOG)],
        _ready,
        log_dir,
        env={"PYTHONDONTWRITEBYTECODE": "1"},
    )


def statements(srv: server.Server) -> list[str]:
    """Every statement the server received so far, in order."""
    path = srv.log.parent / LOG
    if not path.exists():
        return []
    return [json.loads(line)["sql"] for line in path.read_text().splitlines() if '"sql"' in line]


def logins(srv: server.Server) -> list[tuple[str, str | None]]:
    """(user, role) of every login so far, in order."""
    path = srv.log.parent / LOG
    rows = [json.loads(line) for line in path.read_text().splitlines() if '"login"' in line] if path.exists() else []
    return [(r["login"], r["role"]) for r in rows]


def warehouse_block(srv: server.Server, database: str) -> tuple[dict, dict[str, str]]:
    """A ``warehouse:`` block for project.yaml (password as a secret) and the env that resolves it."""
    block = {
        "type": "snowflake",
        "account": "headrace-test",
        "user": "headrace",
        "password": "${secret:snowflake_password}",
        "role": "headrace_admin",
        "warehouse": "headrace_wh",
        "database": database,
        "host": "127.0.0.1",
        "port": srv.port,
        "protocol": "http",
        "login_timeout": 30,
    }
    return block, {"HEADRACE_SECRET_SNOWFLAKE_PASSWORD": "fakesnow-password"}
