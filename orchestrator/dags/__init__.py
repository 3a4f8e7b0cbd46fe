"""The static DAG file. `headrace airflow install-dags DIR` copies it into Airflow's dags folder."""
