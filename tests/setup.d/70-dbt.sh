#!/usr/bin/env bash
# Test set-up for dbt transformations (tests/dbt): dbt's own virtual environments, made from PyPI by
# Headrace itself (headrace.transformations.dbt.venv) under its cache folder (HEADRACE_CACHE_DIR,
# default ~/.cache/headrace), one per adapter the tests use. Never in .venv: dbt's pins fight
# Airflow's. Idempotent (a made environment is kept). Env: VENV.
set -euo pipefail

VENV="${VENV:?VENV not set}"
printf '    70-dbt: dbt-core with dbt-duckdb and dbt-postgres, each in its own environment\n'
"$VENV/bin/python" - <<'PY'
from headrace.transformations.dbt import venv

for adapter in ("dbt-duckdb", "dbt-postgres"):
    if venv.python_of(adapter) is None:
        venv.ensure(adapter, lambda line: print("    70-dbt:", line))
PY
