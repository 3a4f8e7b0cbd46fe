#!/usr/bin/env bash
# Test set-up for the BigQuery warehouse tests: crucible-emulator (BigQuery REST on DuckDB) in a
# venv of its own, .venvs/crucible: it pins older duckdb and sqlglot than Headrace's .venv, so it
# runs as a server (`crucible serve --dialect bigquery`), never imported by the tests.
# Idempotent and quick when it is already there. Env: VENV, ROOT.
set -euo pipefail

ROOT="${ROOT:?ROOT not set}"
VENV="${VENV:?VENV not set}"
DIR="$ROOT/.venvs/crucible"
UV="$VENV/bin/uv"
SPEC="crucible-emulator[server]==0.1.0a2"

say() { printf '    31-crucible: %s\n' "$*"; }

if [ -x "$DIR/bin/crucible" ] && [ "$(cat "$DIR/.spec" 2>/dev/null)" = "$SPEC" ]; then
    exit 0
fi
[ -x "$UV" ] || "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv>=0.8"
say "installing $SPEC into .venvs/crucible"
[ -x "$DIR/bin/python" ] || "$VENV/bin/python" -m venv --without-pip "$DIR"
"$UV" pip install --quiet --python "$DIR/bin/python" "$SPEC"
[ -x "$DIR/bin/crucible" ] || { echo "31-crucible: $SPEC did not install bin/crucible" >&2; exit 1; }
printf '%s' "$SPEC" >"$DIR/.spec"
