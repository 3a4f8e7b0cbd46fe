"""Tests of the Airflow side (orchestrator/): DAG file, project updates, a real Airflow 3 and its UI."""
