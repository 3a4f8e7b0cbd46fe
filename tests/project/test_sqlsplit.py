from __future__ import annotations

import pytest
from headrace.transformations.sqlsplit import split_statements

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
