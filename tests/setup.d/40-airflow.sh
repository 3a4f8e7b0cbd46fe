#!/usr/bin/env bash
# Test set-up for the Airflow tests (tests/orchestrator): git, Chromium + chromedriver for the
# UI test, selenium in the test venv. Airflow itself comes with the "airflow" extra.
# Idempotent: installs only what is missing. Called by ./install.sh test with VENV and ROOT set.
set -euo pipefail

VENV="${VENV:?VENV is not set (run through ./install.sh test)}"

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "40-airflow.sh: install ${missing[*]} (as root: apt-get install -y ${missing[*]})" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Update the package lists only when the packages are not known yet.
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        apt-get update -q >/dev/null
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

if ! "$VENV/bin/python" -c 'import selenium' >/dev/null 2>&1; then
    "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" "selenium>=4.20"
fi
