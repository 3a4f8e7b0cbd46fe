"""dbt models are analysts' code: confined like transformation SQL (DESIGN §8). Each hostile model
fails in the warehouse, a failing dbt test fails the task by its name, and nothing is published."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.dbt.project import demo_project
from tests.helpers import headrace, open_test_warehouse, write_files
from tests.pgserver import PgServer, fresh_database, warehouse_block

pytestmark = pytest.mark.integration

HOSTILE = {
    "duckdb": {
        "read_passwd": "select * from read_csv('/etc/passwd')",
        "attach_db": "{% do run_query(\"ATTACH '/tmp/headrace-dbt-attach.duckdb' AS other\") %} select 1 as x",
        "unlock": "{% do run_query('SET enable_external_access = true') %} select 1 as x",
    },
    "postgres": {
        "read_passwd": "select pg_read_file('/etc/passwd') as x",
        "attach_db": "select * from dblink('dbname=postgres', 'select 1') as t(x int)",
        "unlock": "{% do run_query('SET ROLE postgres') %} select 1 as x",
    },
}
# dbt may read its own login's password (env_var) and print it: the task log shows it masked
LEAK = "{% do log('the password is <' ~ env_var('HEADRACE_DBT_PASSWORD') ~ '>', info=True) %}\nselect 1 as x\n"


def _message(failed: str, node: str) -> str:
    """What the task's error says of one dbt node."""
    return failed.split(f"{node}", 1)[1].split("\n  model.", 1)[0].split("\n  test.", 1)[0]


def _project(root: Path, warehouse: str) -> Path:
    # tables, so that each query runs (a view of pg_read_file() would be made without reading anything)
    models = {
        f"transformations/bi/models/{name}.sql": "{{ config(materialized='table') }}\n" + sql + "\n"
        for name, sql in HOSTILE[warehouse].items()
    }
    return write_files(
        root,
        {
            "project.yaml": "name: demo\nwarehouse: {type: duckdb, path: wh.duckdb}\n",
            "extractors/crm.yaml": """
                type: file
                tables:
                  - name: customers
                    path: data/customers.csv
                    columns: {id: integer, name: string, tier: string}
                  - name: secrets
                    path: data/customers.csv
                    columns: {id: integer, name: string, tier: string}
                """,
            "data/customers.csv": "id,name,tier\n1,Ada,gold\n2,Bob,tin\n",
            "transformations/bi/transformation.yaml": "type: dbt\ninputs: [in_crm.customers]\noutputs: [people]\n",
            "transformations/bi/dbt_project.yml": "name: bi\nprofile: headrace\n",
            "transformations/bi/models/people.sql": "select * from {{ source('inputs', 'customers') }}\n",
            # reads a table of the warehouse that is not a declared input
            "transformations/bi/models/undeclared.sql": "select * from in_crm.secrets\n",
            "transformations/bi/models/schema.yml": """
                version: 2
                models:
                  - name: people
                    columns:
                      - name: tier
                        data_tests:
                          - accepted_values:
                              arguments: {values: [gold, silver]}
                """,
            **models,
            **({"transformations/bi/models/leak.sql": LEAK} if warehouse == "postgres" else {}),
        },
    )


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_hostile_models_fail_in_the_warehouse_and_a_failing_test_fails_the_task_by_name(
    tmp_path: Path, pg_server: PgServer, request: pytest.FixtureRequest, dbt_python: dict, warehouse: str
) -> None:
    project = _project(tmp_path / "demo", warehouse)
    env = {"HEADRACE_STATE_DIR": str(tmp_path / "state")}
    config = yaml.safe_load((project / "project.yaml").read_text())
    if warehouse == "postgres":
        config["warehouse"], more = warehouse_block(pg_server, fresh_database(pg_server, request))
        env.update(more)
        (project / "project.yaml").write_text(yaml.safe_dump(config))
    assert headrace("run", "extractor:crm", "--project", str(project), env=env).returncode == 0

    result = headrace("run", "transformation:bi", "--project", str(project), env=env, timeout=600)

    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # a task failure (retried), not a configuration error (2)
    assert "dbt build failed" in output
    failed = output.split("dbt build failed", 1)[1]
    for name in ("model.bi.read_passwd", "model.bi.attach_db", "model.bi.unlock", "model.bi.undeclared"):
        assert f"{name}: error" in failed, failed
    assert "test.bi.accepted_values_people_tier__gold__silver" in failed and ": fail:" in failed
    assert "root:x:0:0" not in output
    if warehouse == "duckdb":
        assert "disabled by configuration" in _message(failed, "model.bi.read_passwd")
        assert "disabled by configuration" in _message(failed, "model.bi.attach_db")
        assert "configuration has been locked" in _message(failed, "model.bi.unlock")
        assert "in_crm" in failed and "does not exist" in _message(failed, "model.bi.undeclared")  # only inputs
        assert not Path("/tmp/headrace-dbt-attach.duckdb").exists()
    else:
        assert "permission denied for schema in_crm" in _message(failed, "model.bi.undeclared")
        assert "permission denied for function pg_read_file" in _message(failed, "model.bi.read_passwd")
        assert "permission denied to set role" in _message(failed, "model.bi.unlock")
        assert "the password is <***>" in output  # streamed, redacted
    with open_test_warehouse(config["warehouse"], tmp_path / "state", env) as wh:
        assert not wh.table_exists("out_bi", "people")  # nothing published


def test_a_dbt_project_that_does_not_build_is_a_configuration_error(tmp_path: Path, dbt_python: dict) -> None:
    """The manifest was compiled, then the dbt project broke (a macro that does not parse): the task
    exits 2 (fix the project, do not retry), dbt's own message in its log, the working file removed."""
    project = demo_project(
        tmp_path / "demo",
        {},
    )
    env = {"HEADRACE_STATE_DIR": str(tmp_path / "state")}
    assert headrace("run", "extractor:crm", "--project", str(project), env=env).returncode == 0
    assert headrace("compile", str(project), env=env).returncode == 0
    write_files(project, {"transformations/bi/macros/broken.sql": "{% macro broken() %}{{ oops( }}{% endmacro %}\n"})

    result = headrace("run-task", "transformation:bi", "--run-id", "r1", "--project", str(project), env=env)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "the dbt project does not build" in result.stderr
    assert "Compilation Error" in result.stderr and "unexpected '}'" in result.stderr  # dbt's own words
    assert not list((tmp_path / "state" / "dbt" / "runs").iterdir())


def test_compiling_the_project_runs_its_queries_confined(tmp_path: Path, dbt_python: dict) -> None:
    """`headrace validate` compiles a DuckDB project's models (for the manifest's compiled SQL), which
    runs their introspective queries: in an empty database with external access off."""
    leak = tmp_path / "leak.csv"
    project = demo_project(
        tmp_path / "demo",
        {
            "transformations/bi/models/people.sql": "{% if execute %}{% do run_query(\"COPY (SELECT 1) TO '"
            + str(leak)
            + "'\") %}{% endif %}\nselect * from {{ source('inputs', 'customers') }}\n",
        },
    )
    result = headrace("validate", str(project), env={"HEADRACE_STATE_DIR": str(tmp_path / "state")})
    assert result.returncode == 0, result.stdout + result.stderr
    assert not leak.exists()
