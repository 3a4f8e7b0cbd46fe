from __future__ import annotations

import pytest
from headrace.transformations.sqlsplit import SqlSplitError, split_statements

pytestmark = pytest.mark.unit


def test_semicolons_inside_strings_comments_and_bodies_do_not_split() -> None:
    sql = (
        "-- header; comment\n"
        "CREATE TABLE a AS SELECT 'x;y' AS s, \"we;ird\" AS q;\n"
        "/* block ; comment */\n"
        "\n"
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n"
        "SELECT 'it''s; fine'\n"
    )
    statements = split_statements(sql)
    assert [s.line for s in statements] == [2, 5, 6]
    assert statements[0].sql == "CREATE TABLE a AS SELECT 'x;y' AS s, \"we;ird\" AS q"
    assert statements[1].first_line.startswith("CREATE FUNCTION f()")
    assert statements[2].sql == "SELECT 'it''s; fine'"


def test_only_comments_make_no_statement() -> None:
    assert split_statements("-- nothing here;\n/* ; */\n;;\n") == []


@pytest.mark.parametrize("dialect", ["postgres", "duckdb"])
def test_escape_strings_dollar_bodies_and_backslashes_keep_their_semicolons(dialect: str) -> None:
    sql = (
        "SELECT E'it\\'s; fine' AS a, 'C:\\' AS path;\n"  # E-string escapes; a plain string's \ does not
        "CREATE FUNCTION f() RETURNS text AS $fn$\n"
        "  SELECT $$a;b$$ || $x$ $$; $x$;\n"  # other tags and $$ inside a $fn$ body
        "$fn$ LANGUAGE sql;\n"
        "SELECT 3\n"
    )
    statements = split_statements(sql, dialect)
    assert [s.line for s in statements] == [1, 2, 5]
    assert statements[0].sql == "SELECT E'it\\'s; fine' AS a, 'C:\\' AS path"
    assert (
        statements[1].sql
        == "CREATE FUNCTION f() RETURNS text AS $fn$\n  SELECT $$a;b$$ || $x$ $$; $x$;\n$fn$ LANGUAGE sql"
    )
    assert statements[2].sql == "SELECT 3"


def test_statements_are_the_original_text_not_regenerated() -> None:
    sql = "select  a::int   -- why\n  FROM t /* keep */ where x = 'Ā' ;\n\n  /* lead */\n  Insert into t values (1)"
    statements = split_statements(sql)
    assert [s.sql for s in statements] == [
        "select  a::int   -- why\n  FROM t /* keep */ where x = 'Ā'",
        "Insert into t values (1)",
    ]
    assert [s.line for s in statements] == [1, 5]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT 1;\n\nSELECT 'it''s\nFROM t;\n", "line 3: unterminated string starting \"'it''s\""),
        ("SELECT E'a\\';\n", "line 1: unterminated string starting \"E'a\\\\';\""),
        ('SELECT 1;\n-- note\nSELECT "col;\n', "line 3: unterminated quoted identifier starting '\"col;'"),
        (
            "SELECT $x$ body; $y$;\n",
            "line 1: unterminated dollar-quoted string (no closing $x$) starting '$x$ body; $y$;'",
        ),
        ("SELECT 1 /* never closed;\nSELECT 2;\n", "line 1: unterminated block comment starting '/* never closed;'"),
    ],
)
def test_text_that_never_closes_is_named_with_its_line(sql: str, message: str) -> None:
    with pytest.raises(SqlSplitError) as error:
        split_statements(sql)
    assert str(error.value) == message
