"""``profiles.yml`` for dbt, made from a transformation session's login (one generator for every
warehouse: what differs is data, ``PROFILE_TYPES`` and the login the warehouse's session gives).

Secrets are never written: each is a ``{{ env_var('HEADRACE_DBT_<KEY>') }}`` in the file and a
variable in the dbt process's environment only.
"""

from __future__ import annotations

from typing import Any

import yaml
from headrace.warehouses.base import SessionLogin

PROFILE = "headrace"  # passed to dbt as --profile, whatever dbt_project.yml names
TARGET = "run"
PROFILE_TYPES = {  # Capabilities.dbt_adapter -> the profile's ``type``
    "dbt-duckdb": "duckdb",
    "dbt-postgres": "postgres",
    "dbt-bigquery": "bigquery",
    "dbt-snowflake": "snowflake",
}
# what `dbt parse` needs to load the adapter: it opens no connection, so nothing here is real
# (but DuckDB's: an empty in-memory database, confined as a transformation's session is)
PARSE_LOGINS = {
    "dbt-duckdb": SessionLogin(
        {"path": ":memory:", "config_options": {"enable_external_access": False, "lock_configuration": True}},
        {},
        "main",
    ),
    "dbt-postgres": SessionLogin(
        {"host": "127.0.0.1", "port": 5432, "dbname": "parse", "user": "parse", "schema": "parse"},
        {"password": "unused"},
        "parse",
    ),
    "dbt-bigquery": SessionLogin({"method": "oauth", "project": "parse", "dataset": "parse"}, {}, "parse"),
    "dbt-snowflake": SessionLogin(
        {"account": "parse", "user": "parse", "database": "parse", "schema": "parse", "warehouse": "parse"},
        {"password": "unused"},
        "parse",
    ),
}


# adapters whose `dbt compile` runs on PARSE_LOGINS' login, without the warehouse: the manifest's
# nodes then carry compiled SQL (for lineage) instead of the models' Jinja
OFFLINE_COMPILE = {"dbt-duckdb"}


def env_name(key: str) -> str:
    return f"HEADRACE_DBT_{key.upper()}"


def profile(adapter: str, login: SessionLogin, threads: int) -> tuple[str, dict[str, str]]:
    """The text of ``profiles.yml`` and the environment variables holding its secrets."""
    output: dict[str, Any] = {"type": PROFILE_TYPES[adapter], **login.settings}
    env: dict[str, str] = {}
    for key, value in sorted(login.secrets.items()):
        output[key] = "{{ env_var('" + env_name(key) + "') }}"
        env[env_name(key)] = value
    output["threads"] = int(threads)
    document = {PROFILE: {"target": TARGET, "outputs": {TARGET: output}}}
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False), env
