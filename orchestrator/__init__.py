"""Airflow side of Headrace: the static DAG file over the manifest, its operators, project updates."""
