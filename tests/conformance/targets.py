"""Warehouses the conformance suite runs on. Each target gives the ``warehouse:`` block of
project.yaml and a way to query what landed there, through Headrace's own warehouse module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from headrace.warehouses.base import Warehouse


@dataclass
class Target:
    name: str
    config: dict[str, Any]  # the warehouse: block of project.yaml
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)  # e.g. HEADRACE_SECRET_* for a password

    def open(self) -> Warehouse:
        """Headrace's warehouse for this target, opened in this process (close it, or use ``with``)."""
        from tests.helpers import open_test_warehouse

        return open_test_warehouse(self.config, self.state_dir, self.env)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.open() as wh:
            return wh.query(sql)[1]

    def project_yaml(self, name: str = "conformance") -> str:
        import yaml

        return yaml.safe_dump({"name": name, "warehouse": self.config, "storage": {"type": "local"}}, sort_keys=False)


def duckdb_target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    return Target("duckdb", {"type": "duckdb", "path": "warehouse.duckdb"}, tmp_path / "state")


def postgres_target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """A fresh database on the session's PostgreSQL 15 server; the password comes as a secret."""
    from tests import pgserver

    server = request.getfixturevalue("pg_server")
    config, env = pgserver.warehouse_block(server, pgserver.fresh_database(server, request))
    return Target("postgres", config, tmp_path / "state", env)


def snowflake_target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """A fresh database on the session's fakesnow server (tests/emulators/fakesnow.py)."""
    import re

    from tests.emulators import fakesnow

    server = request.getfixturevalue("fakesnow_server")
    database = "t_" + re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[-60:] + "_" + tmp_path.name[-6:]
    config, env = fakesnow.warehouse_block(server, re.sub(r"[^a-z0-9_]", "_", database))
    return Target("snowflake", config, tmp_path / "state", env)


# Cases a target's emulator cannot run: (target, test name) -> reason. Each says what is missing
# and where the behaviour is checked instead (docs/snowflake.md lists what only a real account shows).
SKIPS: dict[tuple[str, str], str] = {
    ("snowflake", "test_undeclared_input_is_refused"): (
        "fakesnow enforces no grants, so an undeclared input is readable there; the run's user, role and "
        "grants are checked at the boundary in tests/snowflake/test_boundary.py (real account only: docs/snowflake.md)"
    ),
    ("snowflake", "test_bc_and_infinite_times_arrive_exactly"): (
        "Snowflake holds no BC or infinite timestamps: such a value fails the load with table, column, line and "
        "value named, like any value a warehouse cannot hold"
    ),
    **{
        ("snowflake", f"test_sigkill_in_extract_and_in_load_then_rerun_equals_source[{mode}]"): (
            "the load killed inside its MERGE transaction leaves that transaction open: fakesnow keeps a dead "
            "client's session forever, so the rerun's MERGE meets DuckDB's write conflict; Snowflake holds the "
            "lock until it aborts the transaction (lock_timeout, SYSTEM$ABORT_TRANSACTION: docs/snowflake.md). "
            "A kill before the swap of a full load, and appends killed in their transaction, are run here"
        )
        for mode in ("incremental", "upsert")
    },
    ("snowflake", "test_statements_are_split_as_the_warehouse_reads_its_strings"): (
        "the case is written in PostgreSQL's string syntax (E'...', $tag$...$tag$), which Snowflake does not have"
    ),
}


# name -> factory(request, tmp_path). Other warehouses register here (see tests/postgres).
TARGETS: dict[str, Callable[[pytest.FixtureRequest, Path], Target]] = {
    "duckdb": duckdb_target,
    "postgres": postgres_target,
    "snowflake": snowflake_target,
}
