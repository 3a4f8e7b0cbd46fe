"""What a warehouse can do, as data (DESIGN §2): the rest of Headrace reads these fields
instead of branching on the warehouse's name. Every field is read somewhere."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    name: str
    dialect: str  # sqlglot dialect name: transformation SQL, quoting
    max_identifier_length: int  # project validation: schema, table and column names
    transactional_ddl: bool  # DDL and data changes commit or roll back together
    merge: bool  # MERGE statement
    clone: bool  # zero-copy clone of a table
    roles: bool  # logins and grants (read-only datamart readers)
    single_writer: bool  # one process may write at a time (DuckDB file lock)
    # storage URI schemes the warehouse loads from natively (e.g. "file" for DuckDB's
    # read_csv, "gs" for BigQuery); parts of any other storage are streamed to it
    native_load_schemes: tuple[str, ...] = ()
