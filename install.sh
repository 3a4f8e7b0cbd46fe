#!/usr/bin/env bash
# Headrace installer.
#
#   ./install.sh local [--airflow]   set up .venv and run the example project end to end on DuckDB
#   ./install.sh test [PYTEST ARGS]  install what the tests need and run the whole suite
#   ./install.sh gcp|aws|azure ...   install Headrace into a cloud account with Terraform
#   ./install.sh plan|destroy CLOUD  show the plan for, or tear down, a cloud install
#
# Safe to run again: every step checks what is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    die "Python 3.11 or newer is needed: install it (e.g. 'apt-get install python3') or set PYTHON=/path/to/python3.11"
}

# ensure_venv EXTRAS [uv args...]: create .venv (once) and install Headrace with the given extras.
ensure_venv() {
    local extras="$1"; shift
    if [ ! -x "$PY" ]; then
        say "Creating $VENV"
        "$(find_python)" -m venv "$VENV"
    fi
    if [ ! -x "$VENV/bin/uv" ]; then
        "$PY" -m pip install --quiet --disable-pip-version-check "uv>=0.8"
    fi
    say "Installing headrace${extras:+[$extras]} into .venv"
    # --compile-bytecode: every task is a fresh process, and where PYTHONDONTWRITEBYTECODE is set
    # (as on these machines) nothing else ever writes .pyc files: each task would compile pydantic,
    # sqlglot and DuckDB's Python code again (about 1 s a task, measured).
    (cd "$ROOT" && "$VENV/bin/uv" pip install --quiet --compile-bytecode --python "$PY" \
        -c "$ROOT/constraints.txt" -e "$ROOT${extras:+[$extras]}" "$@")
}

# compile_bytecode: .pyc files for what later steps installed into .venv (and Headrace's own folders)
compile_bytecode() {
    "$PY" -m compileall -q -j 0 "$VENV"/lib/python3*/site-packages \
        "$ROOT/toolkit" "$ROOT/extractors" "$ROOT/transformations" "$ROOT/orchestrator" >/dev/null 2>&1 || true
}

cmd_local() {
    local airflow=0
    for arg in "$@"; do
        case "$arg" in
            --airflow) airflow=1 ;;
            *) die "unknown option for 'local': $arg (try --airflow)" ;;
        esac
    done
    if [ "$airflow" = 1 ]; then ensure_venv "airflow"; else ensure_venv ""; fi
    say "Running the example project (project_template/) on DuckDB with local storage"
    "$VENV/bin/headrace" run --project "$ROOT/project_template"
    if [ "$airflow" = 1 ]; then
        "$VENV/bin/headrace" airflow up --project "$ROOT/project_template"
    fi
    cat <<MSG

Done. Query the result:
  .venv/bin/headrace query --project project_template "select * from dm_sales.revenue_by_month limit 10"
Start your own project:
  .venv/bin/headrace init my-project
MSG
}

cmd_test() {
    ensure_venv "postgres,airflow,cloud" --group dev
    local script
    for script in "$ROOT"/tests/setup.d/*.sh; do
        [ -e "$script" ] || continue
        say "Test set-up: $(basename "$script")"
        VENV="$VENV" ROOT="$ROOT" bash "$script"
    done
    compile_bytecode
    say "Running the test suite"
    cd "$ROOT"
    exec "$PY" -m pytest "$@"
}

case "${1:-}" in
    local) shift; cmd_local "$@" ;;
    test) shift; cmd_test "$@" ;;
    gcp|aws|azure|plan|destroy) exec bash "$ROOT/infrastructure/install-cloud.sh" "$@" ;;
    -h|--help|help) usage ;;
    "") usage; exit 2 ;;
    *) usage >&2; die "unknown command '$1'" ;;
esac
