"""Airflow Variables and Connections through the Task SDK (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from headrace.errors import ConfigError
from headrace.orchestrator.secretbackend import CONN_FIELDS, AirflowSecretsConfig, split_name
from headrace.secrets.base import SecretBackend


def _connection(conn_id: str) -> Any:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


class AirflowBackend(SecretBackend):
    def __init__(self, config: AirflowSecretsConfig, project_dir: Path | None = None, environ: Any = None):
        self.config = config

    def where(self, name: str) -> str:
        parts = split_name(name)
        return f"Airflow Connection {parts[0]!r}, field {parts[1]}" if parts else f"Airflow Variable {name!r}"

    def fetch(self, name: str) -> str:
        from airflow.sdk import Variable

        parts = split_name(name)
        if parts is None:
            value = Variable.get(name, default=None)
            if value is None:
                raise ConfigError(
                    f"secret {name!r}: there is no Airflow Variable {name!r}: create it (Admin > Variables, "
                    f"`airflow variables set {name} ...`, or AIRFLOW_VAR_{name.upper()})"
                )
            return str(value)
        conn_id, field = parts
        if field not in CONN_FIELDS:
            raise ConfigError(
                f"secret {name!r}: {field!r} is not a field of an Airflow Connection; use one of "
                f"{', '.join(CONN_FIELDS)} (conn__<ID>__<field>)"
            )
        conn = _connection(conn_id)
        if conn is None:
            raise ConfigError(
                f"secret {name!r}: there is no Airflow Connection {conn_id!r}: create it (Admin > Connections, "
                f"`airflow connections add {conn_id} ...`, or AIRFLOW_CONN_{conn_id.upper()})"
            )
        value = getattr(conn, field, None)
        if value is None or value == "":
            raise ConfigError(f"secret {name!r}: the Airflow Connection {conn_id!r} has no {field}: set it")
        return str(value)


def handoff_env(names: Iterable[str]) -> dict[str, str]:
    """``AIRFLOW_VAR_*`` / ``AIRFLOW_CONN_*`` for the task process: what these references name, looked up here.

    Called by the operator, the one process of a task that reaches Airflow's metastore;
    names that do not resolve are left out (the task process then reports them)."""
    from airflow.sdk import Variable

    env: dict[str, str] = {}
    for name in sorted(set(names)):
        parts = split_name(name)
        if parts is None:
            value = Variable.get(name, default=None)
            if value is not None:
                env[f"AIRFLOW_VAR_{name.upper()}"] = str(value)
            continue
        conn = _connection(parts[0])
        if conn is not None:
            env[f"AIRFLOW_CONN_{parts[0].upper()}"] = conn.as_json()
    return env
