"""What a warehouse can do, as data (DESIGN §2): the rest of Headrace reads these fields
instead of branching on the warehouse's name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    name: str
    dialect: str  # sqlglot dialect name
    max_identifier_length: int
    transactional_ddl: bool  # DDL and data changes commit or roll back together
    merge: bool  # MERGE statement
    clone: bool  # zero-copy clone of a table
    roles: bool  # logins and grants (read-only datamart readers)
    single_writer: bool  # one process may write at a time (DuckDB file lock)


CAPABILITIES: dict[str, Capabilities] = {
    "duckdb": Capabilities("duckdb", "duckdb", 255, True, True, False, False, True),
    "postgres": Capabilities("postgres", "postgres", 63, True, True, False, True, False),
}
