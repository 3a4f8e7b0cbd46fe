"""Headrace: the project's Airflow DAGs, built from its compiled manifest.json.

Copied into the Airflow dags folder by `headrace airflow install-dags`. Reads one JSON file
(HEADRACE_MANIFEST, else $HEADRACE_HOME/current/.headrace/manifest.json) and builds the
DAGs: orchestration_<id>, one on-demand DAG per component, and project_update.
"""

from headrace.orchestrator.dagbuild import build_dags

globals().update(build_dags())
