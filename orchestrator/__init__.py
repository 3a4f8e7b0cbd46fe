"""Airflow side of Headrace: the DAG file over the manifest, project updates, local Airflow."""
