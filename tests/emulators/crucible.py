"""crucible-emulator: BigQuery's REST API backed by DuckDB (installed by tests/setup.d/31-crucible.sh
into .venvs/crucible: it pins older duckdb and sqlglot than .venv).

What it emulates and what it does not (no table clones, IAM, dataset access lists, ``gs://`` loads,
transactions, DELETE, INFORMATION_SCHEMA, parameterised NUMERIC, BIGNUMERIC, quoted newlines in
loaded CSV): docs/bigquery.md."""

from __future__ import annotations

from pathlib import Path

from tests.emulators import server

CRUCIBLE = server.VENVS / "crucible" / "bin" / "crucible"


def start(log_dir: Path) -> server.Server:
    if not CRUCIBLE.exists():
        raise RuntimeError(f"{CRUCIBLE} is missing: run tests/setup.d/31-crucible.sh (./install.sh test does)")
    return server.start(
        "crucible",
        lambda port: [str(CRUCIBLE), "serve", "--dialect", "bigquery", "--host", "127.0.0.1", "--port", str(port)],
        lambda port: server.http_ready(f"http://127.0.0.1:{port}/bigquery/v2/projects/ready/datasets"),
        log_dir,
    )


def warehouse_block(endpoint: str, project: str) -> dict[str, object]:
    """The ``warehouse:`` block of project.yaml for a project of its own on the emulator."""
    return {"type": "bigquery", "project": project, "location": "US", "api_endpoint": endpoint, "emulator": True}
