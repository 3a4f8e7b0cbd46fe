#!/usr/bin/env bash
# Test set-up for the Snowflake warehouse: fakesnow (Snowflake SQL on DuckDB) as an HTTP server,
# in a venv of its own (.venvs/fakesnow): it pins duckdb and sqlglot versions of its own that
# must never reach .venv. The tests start it (tests/emulators/fakesnow.py); Headrace's .venv
# talks to it with snowflake-connector-python (the `snowflake` extra). Idempotent. Env: VENV, ROOT.
set -euo pipefail

ROOT="${ROOT:?ROOT not set}"
VENV="${VENV:?VENV not set}"
DIR="$ROOT/.venvs/fakesnow"
UV="$VENV/bin/uv"
# fakesnow 0.12.1 imports snowflake.connector.converter, which connector 5 no longer has
SPECS=("fakesnow[server]==0.12.1" "snowflake-connector-python>=4.8,<5")
SPEC="${SPECS[*]}"

say() { printf '    32-fakesnow: %s\n' "$*"; }
die() { printf '32-fakesnow: %s\n' "$*" >&2; exit 1; }

if [ -x "$DIR/bin/fakesnow" ] && [ "$(cat "$DIR/.spec" 2>/dev/null)" = "$SPEC" ]; then
    exit 0
fi
[ -x "$UV" ] || "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv>=0.8"
say "installing $SPEC into .venvs/fakesnow"
[ -x "$DIR/bin/python" ] || "$VENV/bin/python" -m venv --without-pip "$DIR"
"$UV" pip install --quiet --python "$DIR/bin/python" "${SPECS[@]}"
[ -x "$DIR/bin/fakesnow" ] || die "$SPEC did not install bin/fakesnow"
printf '%s' "$SPEC" >"$DIR/.spec"
