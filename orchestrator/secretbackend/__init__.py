"""``secrets: {type: airflow}``: Airflow Variables and Connections (the only backend that imports Airflow).

``${secret:NAME}`` is the Airflow Variable ``NAME``; ``${secret:conn__<ID>__<field>}`` is one
field of the Connection ``<ID>`` (``password``, ``login``, ``host``, ``port``, ``schema``,
``extra``; ``<ID>`` of letters, digits and ``_``), e.g. ``${secret:conn__crm_db__password}``.

Airflow 3 lets only a task's own process reach Variables and Connections stored in its
database, so the Airflow operator looks up the references of the task it runs (through
the Task SDK: the metastore or whichever secrets backend Airflow is configured with) and
hands them to the ``headrace run-task`` process as ``AIRFLOW_VAR_*`` / ``AIRFLOW_CONN_*``
environment variables, which the Task SDK reads there. Outside Airflow (``headrace run``)
the Task SDK reads the same environment variables and Airflow's configured secrets
backends. Credentials Headrace creates stay in the local file.
"""

from __future__ import annotations

from typing import Literal

from headrace.plugins import Plugin
from headrace.project.base import Strict
from headrace.secrets.base import SecretsCapabilities

CONN_PREFIX = "conn__"
CONN_FIELDS = ("password", "login", "host", "port", "schema", "extra")


class AirflowSecretsConfig(Strict):
    """Airflow Variables (NAME) and Connections (conn__<ID>__<field>)."""

    type: Literal["airflow"]


def split_name(name: str) -> tuple[str, str] | None:
    """(connection id, field) for a ``conn__<ID>__<field>`` name, None for a Variable's name."""
    if not name.startswith(CONN_PREFIX):
        return None
    conn_id, sep, field = name[len(CONN_PREFIX) :].rpartition("__")
    return (conn_id, field) if sep and conn_id else None


plugin = Plugin(
    "secrets",
    "airflow",
    AirflowSecretsConfig,
    "headrace.orchestrator.secretbackend.backend:AirflowBackend",
    SecretsCapabilities(remote=False, writes=False),
    description="Airflow Variables (NAME) and Connections (conn__<ID>__<field>); created credentials: local file",
    extra="airflow",
    requires=("airflow.sdk",),
)
