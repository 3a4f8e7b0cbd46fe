#!/usr/bin/env bash
# Test set-up for the storage conformance suite (tests/storage): gcp-storage-emulator in its own
# venv (.venvs/gcs-emulator) and Azurite from npm under .venvs/azurite (never global). moto for S3
# comes from 50-infra.sh. Idempotent and quick when everything is already there. Env: VENV, ROOT.
set -euo pipefail

ROOT="${ROOT:?ROOT not set}"
VENV="${VENV:?VENV not set}"
VENVS="$ROOT/.venvs"
UV="$VENV/bin/uv"

say() { printf '    30-storage-emulators: %s\n' "$*"; }
die() { printf '30-storage-emulators: %s\n' "$*" >&2; exit 1; }

GCS_SPEC="gcp-storage-emulator==2026.7.19"
AZURITE_VERSION="3.37.0"

[ -x "$UV" ] || "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv>=0.8"
mkdir -p "$VENVS"

gcs="$VENVS/gcs-emulator"
if ! { [ -x "$gcs/bin/gcp-storage-emulator" ] && [ "$(cat "$gcs/.spec" 2>/dev/null)" = "$GCS_SPEC" ]; }; then
    say "installing $GCS_SPEC into .venvs/gcs-emulator"
    [ -x "$gcs/bin/python" ] || "$VENV/bin/python" -m venv --without-pip "$gcs"
    "$UV" pip install --quiet --python "$gcs/bin/python" "$GCS_SPEC"
    [ -x "$gcs/bin/gcp-storage-emulator" ] || die "$GCS_SPEC did not install bin/gcp-storage-emulator"
    printf '%s' "$GCS_SPEC" >"$gcs/.spec"
fi

azurite="$VENVS/azurite"
if ! { [ -x "$azurite/node_modules/.bin/azurite-blob" ] && [ "$(cat "$azurite/.spec" 2>/dev/null)" = "$AZURITE_VERSION" ]; }; then
    command -v npm >/dev/null 2>&1 || die "npm is not installed: Azurite (the Azure Blob emulator) needs Node.js and npm"
    say "installing azurite@$AZURITE_VERSION into .venvs/azurite"
    mkdir -p "$azurite"
    npm install --prefix "$azurite" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
    [ -x "$azurite/node_modules/.bin/azurite-blob" ] || die "azurite@$AZURITE_VERSION did not install azurite-blob"
    printf '%s' "$AZURITE_VERSION" >"$azurite/.spec"
fi
