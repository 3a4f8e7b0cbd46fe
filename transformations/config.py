"""The ``sql`` transformation type: its config model and its plugin record."""

from __future__ import annotations

from typing import Literal

from headrace.components.transformation import TransformationConfig
from headrace.plugins import Plugin
from pydantic import Field

# sqlglot dialect names a transformation's SQL may be written in. The first four are the
# warehouses' dialects, transpiled into each other and tested (tests/transformations); the
# others are read by sqlglot as well and only ever sources.
Dialect = Literal[
    "bigquery",
    "duckdb",
    "postgres",
    "snowflake",
    "databricks",
    "mysql",
    "redshift",
    "spark",
    "trino",
    "tsql",
]


class SqlTransformationConfig(TransformationConfig):
    """SQL files ``NN_name.sql`` beside this file run in name order in a fresh working schema;
    assertions (``NN_name.assert.sql``, or listed under ``assertions``) check the data on the way."""

    type: Literal["sql"] = "sql"
    dialect: Dialect | None = Field(
        None,
        description="the SQL dialect the files are written in (default: the warehouse's); "
        "Headrace transpiles them to the warehouse's dialect when the project is compiled",
    )
    assertions: list[str] = Field(
        default_factory=list,
        description="SQL files of this folder that are assertions (besides those named NN_name.assert.sql): "
        "one query with a message column; a row starting ERROR fails the task, WARNING warns",
    )


plugin = Plugin(
    "transformation",
    "sql",
    SqlTransformationConfig,
    "headrace.transformations.sql:run",
    description="SQL files run in name order in an isolated working schema",
    compile_files="headrace.transformations.sql:compile_files",
)
