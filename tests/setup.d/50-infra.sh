#!/usr/bin/env bash
# Test set-up for tests/infrastructure: moto + boto3 in the main venv; checkov, python-hcl2
# and the AWS CLI each in their own venv under .venvs/ (checkov and python-hcl2 both ship a
# top-level `hcl2` module); shellcheck; the path of the local Terraform provider mirror.
# Idempotent and quick when everything is already there. Env: VENV, ROOT.
set -euo pipefail

ROOT="${ROOT:?ROOT not set}"
VENV="${VENV:?VENV not set}"
VENVS="$ROOT/.venvs"
UV="$VENV/bin/uv"

say() { printf '    50-infra: %s\n' "$*"; }
die() { printf '50-infra: %s\n' "$*" >&2; exit 1; }

MOTO_SPEC="moto[server]==5.2.5"
CHECKOV_SPEC="checkov==3.3.30"
HCL2_SPEC="python-hcl2==8.1.4"
AWSCLI_SPEC="awscli==1.45.11"

[ -x "$UV" ] || "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv>=0.8"

# moto server and boto3 in the test venv.
if [ ! -x "$VENV/bin/moto_server" ] || ! "$VENV/bin/python" -c 'import moto, boto3' 2>/dev/null; then
    say "installing $MOTO_SPEC and boto3 into .venv"
    "$UV" pip install --quiet --python "$VENV/bin/python" "$MOTO_SPEC" boto3
fi

# tool_venv NAME SPEC MARKER: a venv of its own for a tool; MARKER is a file it must contain.
tool_venv() {
    local name="$1" spec="$2" marker="$3" dir="$VENVS/$1"
    if [ -x "$dir/bin/python" ] && [ -e "$dir/$marker" ] && [ "$(cat "$dir/.spec" 2>/dev/null)" = "$spec" ]; then
        return 0
    fi
    say "installing $spec into .venvs/$name"
    [ -x "$dir/bin/python" ] || "$VENV/bin/python" -m venv --without-pip "$dir"
    "$UV" pip install --quiet --python "$dir/bin/python" "$spec"
    [ -e "$dir/$marker" ] || die "$spec did not install $marker"
    printf '%s' "$spec" >"$dir/.spec"
}

tool_venv checkov "$CHECKOV_SPEC" bin/checkov
tool_venv hcl2 "$HCL2_SPEC" bin/python
tool_venv awscli "$AWSCLI_SPEC" bin/aws

command -v terraform >/dev/null 2>&1 ||
    die "terraform is not installed: the infrastructure tests need Terraform 1.11+ on PATH"

if ! command -v shellcheck >/dev/null 2>&1; then
    say "installing shellcheck (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q shellcheck >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q shellcheck >/dev/null; } ||
        die "could not install shellcheck with apt-get"
fi

# The provider mirror: HEADRACE_TF_PROVIDER_MIRROR if set, else the parent of the first
# registry.terraform.io folder near the top of the file system. Cached in .venvs/.
MIRROR_FILE="$VENVS/terraform-provider-mirror"
mirror="${HEADRACE_TF_PROVIDER_MIRROR:-$(cat "$MIRROR_FILE" 2>/dev/null || true)}"
if [ -z "$mirror" ] || [ ! -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
    found="$(find / -maxdepth 4 -type d -name registry.terraform.io -not -path '/proc/*' 2>/dev/null |
        while read -r d; do [ -d "$d/hashicorp/aws" ] && { echo "$d"; break; }; done || true)"
    [ -n "$found" ] || die "no Terraform provider mirror with hashicorp/aws found; set HEADRACE_TF_PROVIDER_MIRROR"
    mirror="$(dirname "$found")"
fi
mkdir -p "$VENVS"
printf '%s\n' "$mirror" >"$MIRROR_FILE"
say "terraform provider mirror: $mirror"
