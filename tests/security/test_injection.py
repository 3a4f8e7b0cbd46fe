"""Configuration values that reach SQL are validated or quoted, never pasted: each case is an
attempt to change the SQL Headrace generates through a value in the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conformance.targets import Target
from tests.helpers import headrace, run_ok, write_files
from tests.pgserver import PgServer
from tests.postgres.source import execute, source_env, write_project

FILES_EXTRACTOR = """
type: file
tables:
  - name: people
    path: data/people.csv
    columns: {id: integer, name: string}
"""


def _validate_fails(root: Path, *expected: str) -> str:
    result = headrace("validate", str(root))
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "Traceback" not in out
    for text in expected:
        assert text in out, out
    return out


@pytest.mark.unit
@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("filter", "id > 0) OR (true", "filter: closes a parenthesis it did not open"),
        ("filter", "true; DROP TABLE public.people", "filter: holds more than one statement"),
        ("filter", "name = 'x", "filter: a string, quoted name or comment is not closed"),
        ("query", "SELECT 1 AS id; DROP TABLE public.people", "query: holds more than one statement"),
        ("query", "SELECT 1) AS a, (SELECT 2", "query: closes a parenthesis it did not open"),
        ("query", "DELETE FROM public.people RETURNING *", "query: must be one SELECT"),
    ],
    ids=[
        "filter-closes-paren",
        "filter-second-statement",
        "filter-open-string",
        "query-second-statement",
        "query-closes-paren",
        "query-not-a-select",
    ],
)
def test_source_sql_fragments_cannot_change_the_generated_statement(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    table = {"name": "people", key: value}
    if key == "filter":
        table["source"] = "public.people"
    import yaml

    extractor = {
        "type": "postgres",
        "connection": {"host": "127.0.0.1", "database": "crm", "user": "u", "password": "${secret:pw}"},
        "tables": [table],
    }
    write_files(tmp_path, {"project.yaml": "name: demo\n", "extractors/src.yaml": yaml.safe_dump(extractor)})
    _validate_fails(tmp_path, "extractors/src.yaml", message)


@pytest.mark.unit
def test_memory_limit_cannot_carry_sql(tmp_path: Path) -> None:
    hostile = "2GB'; ATTACH '/tmp/other.duckdb' AS o; --"
    write_files(
        tmp_path,
        {
            "project.yaml": f'name: demo\nwarehouse: {{type: duckdb, memory_limit: "{hostile}"}}\n',
            "extractors/crm.yaml": FILES_EXTRACTOR,
            "data/people.csv": "id,name\n1,a\n",
        },
    )
    _validate_fails(tmp_path, "project.yaml", "memory_limit", "is not an amount of memory")


@pytest.mark.integration
def test_memory_limit_from_the_environment_is_checked_when_the_task_runs(state_env: Path, tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "project.yaml": "name: demo\nwarehouse: {type: duckdb, memory_limit: '${env:HR_MEM}'}\n",
            "extractors/crm.yaml": FILES_EXTRACTOR,
            "data/people.csv": "id,name\n1,a\n",
        },
    )
    result = headrace("run", "--project", str(tmp_path), env={"HR_MEM": "1GB'; COPY (SELECT 1) TO '/tmp/x'; --"})
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "project.yaml" in out and "memory_limit" in out and "is not an amount of memory" in out
    assert "Traceback" not in out


@pytest.mark.unit
@pytest.mark.parametrize("column", ["_headrace_run_id", "_HEADRACE_loaded_at"])
def test_declared_columns_cannot_take_headraces_own_names(tmp_path: Path, column: str) -> None:
    write_files(
        tmp_path,
        {
            "project.yaml": "name: demo\n",
            "extractors/crm.yaml": FILES_EXTRACTOR.replace("name: string}", f"name: string, {column}: string}}"),
            "data/people.csv": f"id,name,{column}\n1,a,b\n",
        },
    )
    _validate_fails(tmp_path, "extractors/crm.yaml", column, "Headrace's own columns")


@pytest.mark.unit
@pytest.mark.parametrize("reader", ["public", "pg_read_all_data", "hr_tr_sales"])
def test_a_datamart_reader_cannot_be_everyone_or_a_server_role(tmp_path: Path, reader: str) -> None:
    write_files(
        tmp_path,
        {
            "project.yaml": "name: demo\n",
            "datamarts.yaml": f"datamarts:\n  - id: sales\n    tables: [in_crm.people]\n    readers: [{reader}]\n",
        },
    )
    _validate_fails(tmp_path, "datamarts.yaml", f"{reader!r} cannot be a reader")


@pytest.fixture
def source(pg_server: PgServer, pg_database: str, monkeypatch: pytest.MonkeyPatch) -> tuple[PgServer, str]:
    for key, value in source_env(pg_server).items():
        monkeypatch.setenv(key, value)
    return pg_server, pg_database


@pytest.mark.integration
def test_a_source_column_named_like_headraces_own_is_refused_before_anything_loads(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    server, db = source
    execute(
        server,
        db,
        "CREATE TABLE public.people (id int, _headrace_run_id text); INSERT INTO public.people VALUES (1, 'x')",
    )
    project = write_project(
        tmp_path / "p", target.project_yaml(), server, db, [{"name": "people", "source": "public.people"}]
    )
    result = headrace("run", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "extractors/src.yaml: table 'people': column '_headrace_run_id' collides with Headrace's own columns" in out
    with target.open() as wh:
        assert not wh.table_exists("in_src", "people")


@pytest.mark.integration
def test_cursor_values_with_quotes_are_literals_not_sql(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    """A text cursor whose maximum is a hostile string: the next run reads past it, nothing else happens."""
    server, db = source
    execute(
        server,
        db,
        "CREATE TABLE public.events (id int PRIMARY KEY, tag text);"
        "INSERT INTO public.events VALUES (1, 'a'), (2, $$b'); DROP TABLE public.events; --$$)",
    )
    tables = [
        {"name": "events", "source": "public.events", "load": "incremental", "cursor": "tag", "primary_key": ["id"]}
    ]
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, tables)
    run_ok("run", "--project", str(project))
    execute(server, db, "INSERT INTO public.events VALUES (3, 'c''\\\\x'), (0, 'a')")
    run_ok("run", "--project", str(project))
    assert execute(server, db, "SELECT count(*) FROM public.events") == [(4,)]
    assert sorted(r[0] for r in target.query("SELECT id FROM in_src.events")) == [1, 2, 3]


@pytest.mark.integration
def test_a_filter_ending_in_a_comment_still_closes_its_parenthesis(
    tmp_path: Path, target: Target, source: tuple[PgServer, str]
) -> None:
    server, db = source
    execute(
        server, db, "CREATE TABLE public.people (id int, name text); INSERT INTO public.people VALUES (1,'a'),(2,'b')"
    )
    tables = [{"name": "people", "source": "public.people", "filter": "id > 1 -- only the new ones"}]
    project = write_project(tmp_path / "p", target.project_yaml(), server, db, tables)
    run_ok("run", "--project", str(project))
    assert target.query("SELECT id FROM in_src.people") == [(2,)]
