"""dlt's side of bench/el_postgres.py: ``sql_database`` into DuckDB or PostgreSQL.

Runs in its own virtual environment (bench/.venv-dlt) so dlt's pins never touch Headrace's.
Usage: python el_postgres_dlt.py BACKEND SOURCE_URL DESTINATION TARGET PIPELINES_DIR

BACKEND is ``pyarrow`` or ``connectorx``; DESTINATION ``duckdb`` (TARGET: a DuckDB file) or
``postgres`` (TARGET: a PostgreSQL URL; loaded with COPY from CSV, dlt's fastest path there).
The URLs come from the environment variables named by SOURCE_URL and TARGET when those start
with ``env:``, so no password appears on a command line.
"""

from __future__ import annotations

import os
import sys


def _value(arg: str) -> str:
    return os.environ[arg[4:]] if arg.startswith("env:") else arg


def main() -> None:
    backend, source_url, destination, target, pipelines_dir = sys.argv[1:6]
    import dlt
    from dlt.sources.sql_database import sql_database

    source = sql_database(
        credentials=_value(source_url),
        schema="public",
        table_names=["lineitem"],
        backend=backend,
        reflection_level="full_with_precision",
        chunk_size=100_000,
    )
    if destination == "duckdb":
        dest = dlt.destinations.duckdb(target)
        file_format = "parquet"
    else:
        dest = dlt.destinations.postgres(_value(target))
        file_format = "csv"
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_el_{destination}_{backend}",
        destination=dest,
        dataset_name="tpch",
        pipelines_dir=pipelines_dir,
    )
    info = pipeline.run(source, loader_file_format=file_format)
    info.raise_on_failed_jobs()


if __name__ == "__main__":
    main()
