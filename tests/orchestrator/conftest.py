"""Fixtures of the Airflow tests; they live in support.py so that tests can import its helpers too."""

from tests.orchestrator.support import airflow_instance, project_remote

__all__ = ["airflow_instance", "project_remote"]
