"""profiles.yml as Headrace writes it for dbt (golden files): from the login of a real transformation
session (DuckDB, PostgreSQL), its secrets only as env_var() references."""

from __future__ import annotations

from pathlib import Path

import pytest
from headrace.transformations.dbt.profiles import profile

from tests.golden_files import assert_golden
from tests.helpers import open_test_warehouse
from tests.pgserver import PgServer, fresh_database, warehouse_block

pytestmark = pytest.mark.integration
WORK = "tr_sales_0123abcd"


def test_duckdb_profile_opens_the_work_file_with_external_access_off_and_configuration_locked(tmp_path: Path) -> None:
    with (
        open_test_warehouse({"type": "duckdb", "path": "wh.duckdb"}, tmp_path) as wh,
        wh.transformation_session(WORK, {}) as session,
        session.login(3) as login,
    ):
        text, env = profile("dbt-duckdb", login, 2)
        work_file = login.settings["path"]
    assert env == {}
    assert work_file.startswith(str(tmp_path)) and not Path(work_file).exists()  # removed with the session
    assert_golden("dbt/profiles-duckdb.yml", text.replace(work_file, "<work file>"))


def test_postgres_profile_logs_in_as_the_run_s_role_with_its_password_in_the_environment(
    pg_server: PgServer, request: pytest.FixtureRequest
) -> None:
    config, env = warehouse_block(pg_server, fresh_database(pg_server, request))
    with (
        open_test_warehouse(config, Path("/nonexistent"), env) as wh,
        wh.transformation_session(WORK, {}, 60) as session,
        session.login(3) as login,
    ):
        text, secrets = profile("dbt-postgres", login, 2)
    assert list(secrets) == ["HEADRACE_DBT_PASSWORD"]
    assert secrets["HEADRACE_DBT_PASSWORD"] not in text and pg_server.password not in text
    text = text.replace(str(pg_server.port), "<port>").replace(config["database"], "<database>")
    assert_golden("dbt/profiles-postgres.yml", text)


def test_snowflake_profile_logs_in_as_the_run_s_user_with_its_key_in_the_environment() -> None:
    """Not run against Snowflake (no emulator runs dbt-snowflake here): the profile made from the
    warehouse's config and the run's user, as the session would give it."""
    from headrace.warehouses.snowflake import connect
    from headrace.warehouses.snowflake.session import dbt_login, run_args

    config = {
        "account": "acme-xy12345",
        "user": "HEADRACE",
        "password": "warehouse-pw",
        "warehouse": "WH",
        "database": "ANALYTICS",
        "role": "HEADRACE_ROLE",
    }
    login = dbt_login(run_args(connect.settings(config), "HR_TR_SALES_0123ABCD", WORK, b"der-key"), WORK)
    text, env = profile("dbt-snowflake", login, 2)
    assert list(env) == ["HEADRACE_DBT_PRIVATE_KEY"] and env["HEADRACE_DBT_PRIVATE_KEY"] not in text
    assert "warehouse-pw" not in text
    assert_golden("dbt/profiles-snowflake.yml", text)


def test_bigquery_profile_impersonates_the_transformation_service_account() -> None:
    """Not run against BigQuery (no emulator has IAM): the profile made from the warehouse's config."""
    from headrace import plugins
    from headrace.errors import TaskFailed
    from headrace.warehouses.bigquery.session import dbt_login

    model = plugins.get("warehouse", "bigquery").config
    config = model.model_validate(
        {
            "type": "bigquery",
            "project": "acme-data",
            "location": "EU",
            "transformation_service_account": "transform@acme-data.iam.gserviceaccount.com",
        }
    )
    text, env = profile("dbt-bigquery", dbt_login(config, f"headrace_{WORK}"), 2)
    assert env == {}
    assert_golden("dbt/profiles-bigquery.yml", text)
    keyed = model.model_validate({"type": "bigquery", "project": "acme-data", "credentials_json": "${secret:gcp_key}"})
    with pytest.raises(TaskFailed, match="transformation_service_account"):
        dbt_login(keyed, "d")
