"""dlt's side of bench/el_postgres.py: ``sql_database`` with the pyarrow backend into DuckDB.

Runs in its own virtual environment (bench/.venv-dlt) so dlt's pins never touch Headrace's.
Usage: python el_postgres_dlt.py POSTGRES_URL DUCKDB_FILE PIPELINES_DIR
"""

from __future__ import annotations

import sys


def main() -> None:
    url, duckdb_file, pipelines_dir = sys.argv[1:4]
    import dlt
    from dlt.sources.sql_database import sql_database

    source = sql_database(
        credentials=url,
        schema="public",
        table_names=["lineitem"],
        backend="pyarrow",
        reflection_level="full_with_precision",
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_el_postgres",
        destination=dlt.destinations.duckdb(duckdb_file),
        dataset_name="tpch",
        pipelines_dir=pipelines_dir,
    )
    info = pipeline.run(source)
    info.raise_on_failed_jobs()


if __name__ == "__main__":
    main()
