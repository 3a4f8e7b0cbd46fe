#!/usr/bin/env bash
# PostgreSQL server binaries for the tests (initdb, pg_ctl from Debian's server package).
# Idempotent: installs only when they are missing.
set -euo pipefail
for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/16/bin /usr/lib/postgresql/17/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        echo "PostgreSQL server binaries: $dir"
        exit 0
    fi
done
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    echo "PostgreSQL server binaries: $(dirname "$(command -v initdb)")"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "20-postgres.sh: initdb/pg_ctl are missing; install Debian's 'postgresql' package (needs root)" >&2
    exit 1
fi
echo "Installing PostgreSQL server binaries (apt-get install postgresql)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
# Debian creates and starts a default cluster: the tests start their own, so stop it.
if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _; do
        pg_ctlcluster "$version" "$cluster" stop 2>/dev/null || true
    done
fi
