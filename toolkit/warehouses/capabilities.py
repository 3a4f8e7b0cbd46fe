"""What a warehouse can do, as data (DESIGN §2): the rest of Headrace reads these fields
instead of branching on the warehouse's name. Every field is read somewhere; the comment
on each says where and what it decides."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    # how the warehouse is named in messages (project validation, "no logins" errors)
    name: str
    # sqlglot dialect: quoting (headrace.sqltext), DDL types (headrace.typemaps), type comparison
    # of an existing table with new data, splitting transformation SQL into statements
    dialect: str
    # longest schema, table or column name: project validation refuses longer names, and
    # generated names (staging tables, roles) are cut to it with a hash suffix
    max_identifier_length: int
    # the MERGE statement: upserts merge with one MERGE; without it, UPDATE changed rows
    # then INSERT new keys (same result, e.g. PostgreSQL before 15)
    merge: bool
    # upsert keys match NULL to NULL (IS NOT DISTINCT FROM costs no more than = here);
    # without it a NULL primary key fails the load, so keys compare with plain = (indexable)
    null_safe_keys: bool
    # logins and grants: datamart reader logins, a restricted role per transformation run;
    # without, datamart readers open the warehouse directly (no credentials to hand out)
    roles: bool
    # one process writes at a time (DuckDB's file lock): concurrent loads of one table need no
    # lock of their own; otherwise each load takes a per-table lock in its transaction
    single_writer: bool
    # storage URI schemes the warehouse loads from natively (e.g. "file" for DuckDB's
    # read_csv, "gs" for BigQuery); parts of any other storage are streamed to it
    native_load_schemes: tuple[str, ...] = ()
    # a transformation's inputs are zero-copy table clones in its working area (BigQuery): the
    # confined identity reads them without access to the source; otherwise copies (or views where
    # the warehouse's grants confine them, as on PostgreSQL). Read by the BigQuery session.
    clones: bool = False
    # ``Warehouse.export_table`` streams a table out as table files (CSV parts + schema.json): the
    # inputs of a container transformation (docs/components.md). Without it, project validation
    # refuses container transformations on this warehouse.
    exports_tables: bool = False
    # the database is a file on the machine that runs Headrace (DuckDB): project validation refuses
    # a worker on another machine (a worker VM) with it, as its tasks could not open the file
    local_file: bool = False
    # the dbt adapter package for this warehouse (dbt-duckdb, dbt-postgres, dbt-bigquery,
    # dbt-snowflake): read by the dbt transformation (transformations/dbt), which installs it beside
    # dbt-core in dbt's own virtual environment and writes its profile; empty: project validation
    # refuses dbt transformations on this warehouse
    dbt_adapter: str = ""
    # personal sandboxes (docs/sandboxes.md): ``Warehouse.create_sandbox`` and friends work; read by
    # the sandbox commands (a clear error before connecting) and the DAG builder (the sandbox DAGs)
    sandboxes: bool = False
    # the part formats (headrace.partformats) its loads read, fastest to load first: compile picks
    # the first one the extractor can write and records it in the manifest (ExtractorTask.part_format)
    part_formats: tuple[str, ...] = ("csv.gz", "csv")
    # the same when the project's storage is local ("file"): disk is cheap there, CPU is not;
    # empty: as part_formats
    local_part_formats: tuple[str, ...] = ()

    def part_format_preference(self, storage_scheme: str) -> tuple[str, ...]:
        """The formats to choose from for a project whose storage has ``storage_scheme``."""
        return (self.local_part_formats or self.part_formats) if storage_scheme == "file" else self.part_formats
