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
    # the tests' SQL is written for DuckDB and PostgreSQL; another dialect gets it transpiled by sqlglot
    dialect: str | None = None
    # why a case cannot run on this target's emulator (test name -> reason); see skip_unless()
    skips: dict[str, str] = field(default_factory=dict)
    # rows of the bulk load cases where the emulator loads slowly (None: the cases' own numbers)
    bulk_rows: int | None = None

    def open(self) -> Warehouse:
        """Headrace's warehouse for this target, opened in this process (close it, or use ``with``)."""
        from tests.helpers import open_test_warehouse

        return open_test_warehouse(self.config, self.state_dir, self.env)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if self.dialect:
            import sqlglot

            sql = sqlglot.transpile(sql, read="duckdb", write=self.dialect)[0]
        with self.open() as wh:
            return wh.query(sql)[1]

    # Names come back in lower case: Snowflake's catalog holds Headrace's names in upper case.

    def schemas(self) -> set[str]:
        """Schemas of the warehouse (BigQuery: datasets, which information_schema does not list)."""
        with self.open() as wh:
            listing = getattr(wh, "schemas", None)
            if listing is not None:
                return {s.lower() for s in listing()}
            return {r[0].lower() for r in wh.query("SELECT schema_name FROM information_schema.schemata")[1]}

    def tables(self, schema: str) -> list[str]:
        """Tables and views of ``schema``, sorted."""
        with self.open() as wh:
            relations = getattr(wh, "relations", None)
            if relations is not None:
                return sorted(t.lower() for t in relations(schema))
            sql = f"SELECT table_name FROM information_schema.tables WHERE lower(table_schema) = '{schema}'"
            return sorted(r[0].lower() for r in wh.query(sql)[1])

    def columns(self, schema: str, table: str) -> list[str]:
        """Column names of ``schema.table``, in order."""
        with self.open() as wh:
            column_types = getattr(wh, "column_types", None)
            if column_types is not None:
                return [name.lower() for name, _ in column_types(schema, table)]
            sql = (
                "SELECT column_name FROM information_schema.columns "
                f"WHERE lower(table_schema) = '{schema}' AND lower(table_name) = '{table}' ORDER BY ordinal_position"
            )
            return [r[0].lower() for r in wh.query(sql)[1]]

    def skip_unless(self, case: str) -> None:
        """Skip ``case`` on a target whose emulator cannot show it, with the reason."""
        if case in self.skips:
            pytest.skip(f"{self.name}: {self.skips[case]}")

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


# What crucible-emulator 0.1.0a2 cannot show, by conformance case; each is asserted at the HTTP
# boundary instead where it is Headrace's request that matters (tests/bigquery/test_http_boundary.py).
CRUCIBLE_SKIPS = {
    "bignumeric": "crucible refuses BIGNUMERIC, which decimal(38,10) needs: the tricky values use decimal(38,9)",
    "numeric_cast": "crucible casts '1234567890123456789012345678.123456789' to NUMERIC without its fraction "
    "(BigQuery keeps all 9 places); the other decimals are checked",
    "slow_loads": "crucible inserts loaded rows one by one (DuckDB executemany, a few hundred rows/s on the "
    "shared test machine): the 40,000-row kill cases would take most of an hour; kills around a load are "
    "covered by tests/conformance/test_sigkill.py",
    "bc_times": "BigQuery holds no dates before year 1",
    "undeclared_input": "crucible has no IAM: confinement by the working dataset's access list is asserted at "
    "the HTTP boundary (tests/bigquery/test_http_boundary.py)",
    "string_syntax": "E'...' and $tag$ strings are PostgreSQL and DuckDB syntax; BigQuery has neither",
}


def bigquery_target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """A project of its own on the session's crucible-emulator (BigQuery REST backed by DuckDB)."""
    import uuid

    from tests.emulators import crucible

    endpoint = request.getfixturevalue("crucible_endpoint")
    config = crucible.warehouse_block(endpoint, f"hr-{uuid.uuid4().hex[:12]}")
    return Target("bigquery", config, tmp_path / "state", dialect="bigquery", skips=CRUCIBLE_SKIPS, bulk_rows=4_000)


# name -> factory(request, tmp_path). Other warehouses register here (see tests/postgres).
TARGETS: dict[str, Callable[[pytest.FixtureRequest, Path], Target]] = {
    "duckdb": duckdb_target,
    "postgres": postgres_target,
    "snowflake": snowflake_target,
    "bigquery": bigquery_target,
}
