"""A SQL transformation's dialect is transpiled to the warehouse's at compile time (issue 10, item 7).

Only dialect names are needed: every warehouse dialect is tested here without its plugin.
The golden files under tests/golden/transpiled/ are what the example project runs on each
warehouse; review them by eye when they change (HEADRACE_UPDATE_GOLDEN=1 rewrites them).
"""

from __future__ import annotations

from typing import get_args

import pytest
from headrace.project.loader import load_project
from headrace.transformations.config import SqlTransformationConfig
from headrace.transformations.sql import compile_files
from headrace.transformations.sqlsplit import Statement
from headrace.transformations.transpile import TranspileError, transpile_file

from tests.golden_files import GOLDEN, assert_golden
from tests.helpers import TEMPLATE

pytestmark = pytest.mark.unit

WAREHOUSE_DIALECTS = ["duckdb", "postgres", "bigquery", "snowflake"]


def _sql(text: str, target: str, source: str = "duckdb") -> str:
    return ";\n".join(s.sql for s in transpile_file(text, source, target))


@pytest.mark.parametrize("dialect", WAREHOUSE_DIALECTS)
def test_example_project_sql_in_each_warehouse_dialect_matches_golden(dialect: str) -> None:
    project = load_project(TEMPLATE)
    parts = []
    for tr_id, tr in project.transformations.items():
        files = [(f.name, f.sql) for f in tr.sql_files]
        compiled, errors = compile_files(tr_id, tr.config, files, dialect)
        assert errors == []
        for sql_file in compiled:
            for statement in sql_file.statements:
                where = f"transformations/{tr_id}/{sql_file.file}, line {statement.line}"
                parts.append(f"-- {where}\n{statement.sql};\n")
    assert_golden(f"{dialect}.sql", "\n".join(parts), GOLDEN / "transpiled")


def test_same_dialect_is_passed_through_as_written() -> None:
    text = "select  a::int   -- why\n  FROM t /* keep */ where x = 'Ā' ;\n\n  Insert into T values (1)"
    statements = transpile_file(text, "postgres", "postgres")
    assert statements == [
        Statement("select  a::int   -- why\n  FROM t /* keep */ where x = 'Ā'", 1, 1),
        Statement("Insert into T values (1)", 4, 3),
    ]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("postgres", 'SELECT\n  "country",\n  "orders"."amount"\nFROM "orders"'),
        ("snowflake", 'SELECT\n  "COUNTRY",\n  "ORDERS"."AMOUNT"\nFROM "ORDERS"'),
        ("bigquery", "SELECT\n  `country`,\n  `orders`.`amount`\nFROM `orders`"),
    ],
)
def test_unquoted_names_become_the_names_headrace_creates(target: str, expected: str) -> None:
    """BigQuery's table names are case-sensitive: the transpiled SQL names Headrace's lower-case
    tables and columns exactly; Snowflake's warehouse stores them in upper case (what an unquoted
    name reads there), and the transpiled SQL names them so."""
    assert _sql("SELECT Country, ORDERS.Amount FROM Orders", target) == expected


def test_quoted_names_keep_their_case() -> None:
    assert _sql('SELECT "MixedCase" FROM t', "snowflake") == 'SELECT\n  "MixedCase"\nFROM "T"'
    assert _sql('SELECT "MixedCase" FROM t', "postgres") == 'SELECT\n  "MixedCase"\nFROM "t"'


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("postgres", 'CAST(7 AS DOUBLE PRECISION) / 2 AS "r",\n  DIV(7, 2) AS "q"'),
        ("bigquery", "7 / 2 AS `r`,\n  DIV(7, 2) AS `q`"),
        ("snowflake", '7 / 2 AS "R",\n  CAST(TRUNC(7 / 2) AS BIGINT) AS "Q"'),
    ],
)
def test_division_keeps_duckdb_meaning(target: str, expected: str) -> None:
    """DuckDB's ``/`` divides integers exactly (3.5) and ``//`` is integer division."""
    assert expected in _sql("SELECT 7 / 2 AS r, 7 // 2 AS q", target)


@pytest.mark.parametrize(
    ("target", "expected"),
    [("postgres", '"a" DESC NULLS LAST'), ("snowflake", '"A" DESC NULLS LAST'), ("bigquery", "`a` DESC")],
)
def test_null_ordering_keeps_duckdb_meaning(target: str, expected: str) -> None:
    """DuckDB sorts NULLs last both ways; PostgreSQL and Snowflake put them first when descending."""
    assert _sql("SELECT a FROM t ORDER BY a DESC", target).endswith(expected)


def test_concat_with_null_keeps_duckdb_meaning() -> None:
    """DuckDB's concat() skips NULLs; Snowflake's and BigQuery's return NULL."""
    assert "CONCAT('a', COALESCE(\"B\", ''))" in _sql("SELECT concat('a', b) FROM t", "snowflake")


def test_group_by_all_is_expanded_for_postgres() -> None:
    sql = _sql("SELECT country, date_trunc('month', d) AS m, count(*) AS n FROM t GROUP BY ALL", "postgres")
    assert sql.endswith("GROUP BY\n  1,\n  2")
    assert _sql("SELECT a, count(*) FROM t GROUP BY ALL", "snowflake").endswith("GROUP BY ALL")


def test_round_of_a_float_works_on_postgres() -> None:
    """PostgreSQL has round(numeric, int) only: DuckDB's round(double, 4) is cast first."""
    assert 'ROUND(CAST("a" / "b" AS DECIMAL), 4)' in _sql("SELECT round(a / b, 4) FROM t", "postgres").replace(
        'CAST("a" AS DOUBLE PRECISION)', '"a"'
    )


def test_decimal_cast_rounds_on_bigquery_too() -> None:
    """BigQuery's NUMERIC keeps 9 decimals where DECIMAL(14, 2) rounds to 2: the rounding is written out."""
    assert "ROUND(CAST(`x` AS NUMERIC), 2)" in _sql("SELECT CAST(x AS DECIMAL(14, 2)) FROM t", "bigquery")


def test_a_parse_error_names_line_and_column_in_the_file() -> None:
    text = "CREATE TABLE a AS SELECT 1 AS x;\n\nCREATE TABLE b AS\nSELECT x FROM a WHERE x = = 1;\n"
    with pytest.raises(TranspileError) as info:
        transpile_file(text, "duckdb", "snowflake")
    assert (info.value.line, info.value.column) == (4, 27)
    assert info.value.message.startswith("cannot be read as duckdb SQL:") and "near '='" in info.value.message


@pytest.mark.parametrize(
    ("sql", "target", "construct"),
    [
        ("PIVOT t ON a USING sum(b)", "postgres", "PIVOT"),
        ("SELECT array_agg(a ORDER BY b) FROM t", "bigquery", "ARRAY_AGG"),
        ("SELECT * FROM t GROUP BY ALL", "postgres", "GROUP BY ALL with SELECT *"),
        ("INSTALL httpfs", "snowflake", "INSTALL"),
    ],
)
def test_unsupported_constructs_name_the_construct_and_the_target(sql: str, target: str, construct: str) -> None:
    with pytest.raises(TranspileError) as info:
        transpile_file(f"SELECT 1;\n  {sql};\n", "duckdb", target)
    assert (info.value.line, info.value.column) == (2, 3)
    assert f"to {target}" in info.value.message and construct in info.value.message
    assert f"with dialect: {target}" in info.value.hint


def test_a_statement_sqlglot_cannot_read_is_not_sent_unchanged() -> None:
    with pytest.raises(TranspileError) as info:
        transpile_file("VACUUM t;\n", "duckdb", "bigquery")
    assert info.value.message == "sqlglot cannot transpile this VACUUM statement from duckdb to bigquery"


def test_statement_lines_are_the_source_files_even_when_the_sql_grows() -> None:
    text = "-- two statements\nSELECT 1 AS a;\n\nSELECT a FROM t GROUP BY ALL;\n"
    assert [s.line for s in transpile_file(text, "duckdb", "postgres")] == [2, 4]


def test_an_expression_is_not_taken_for_a_statement() -> None:
    """sqlglot reads ``CLUSTER t`` (a PostgreSQL command) as the column ``cluster AS t``."""
    with pytest.raises(TranspileError) as info:
        transpile_file("CLUSTER t;\n", "postgres", "duckdb")
    assert info.value.message == "sqlglot reads this as an expression, not a statement, in postgres"


def test_hostile_nesting_is_an_error_not_a_traceback() -> None:
    with pytest.raises(TranspileError) as info:
        transpile_file("SELECT " + "(" * 3000 + "1" + ")" * 3000, "duckdb", "postgres")
    assert info.value.message == "is nested too deeply to be transpiled"


@pytest.mark.parametrize("source", get_args(get_args(SqlTransformationConfig.model_fields["dialect"].annotation)[0]))
def test_every_dialect_a_project_may_declare_is_read_by_sqlglot(source: str) -> None:
    for target in WAREHOUSE_DIALECTS:
        expected = 'SELECT\n  "a" AS "b"\nFROM "t"\nWHERE\n  "c" = 1'
        assert _sql("SELECT a AS b FROM t WHERE c = 1", target, source).replace("`", '"') == (
            (expected.upper() if target == "snowflake" else expected)
            if source != target
            else "SELECT a AS b FROM t WHERE c = 1"
        )
