"""Fixtures of the Airflow tests live in orchestrator_support.py (importable by the tests too)."""

from orchestrator_support import airflow_instance, project_remote

__all__ = ["airflow_instance", "project_remote"]
