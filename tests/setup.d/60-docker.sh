#!/usr/bin/env bash
# Docker engine (Debian's docker.io: the tests start dockerd themselves, tests/emulators/dockerd.py),
# debootstrap (the worker image's base is a root filesystem made from Debian's packages: no
# registry pulls) and OpenSSH's server (the worker VM's "Docker over SSH" on 127.0.0.1).
# Idempotent: installs only what is missing.
set -euo pipefail
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
if [ "${#missing[@]}" = 0 ]; then
    echo "dockerd, debootstrap and sshd are installed"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "60-docker.sh: ${missing[*]} missing; install them with apt-get (needs root)" >&2
    exit 1
fi
echo "Installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's packages start services of their own where systemd runs: the tests start their own.
for service in docker.socket docker containerd ssh; do
    systemctl stop "$service" >/dev/null 2>&1 || true
done
