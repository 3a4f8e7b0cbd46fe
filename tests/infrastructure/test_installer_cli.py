"""install.sh gcp|aws|azure|plan|destroy: dry runs (golden files) and preflight errors."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.infrastructure.tools import REPO, VENVS, assert_golden, free_port, installer

pytestmark = pytest.mark.infra

REPO_URL = "git@github.com:acme/analytics-project.git"
DRY_RUNS = {
    "aws": [
        "aws", "--region", "eu-west-1", "--allowed-cidr", "203.0.113.10/32", "--allowed-cidr", "198.51.100.0/24",
        "--project-repo", REPO_URL, "--warehouse", "postgres", "--deploy-key", "/keys/deploy_key",
    ],
    "gcp": [
        "gcp", "--project", "acme-data-prod", "--region", "europe-west1", "--allowed-cidr", "203.0.113.10/32",
        "--project-repo", REPO_URL, "--project-branch", "production",
    ],
    "azure": [
        "azure", "--subscription", "11111111-2222-3333-4444-555555555555", "--location", "westeurope",
        "--allowed-cidr", "203.0.113.10/32", "--project-repo", REPO_URL, "--warehouse", "snowflake",
        "--name", "acmedata",
    ],
    "destroy-aws": ["destroy", "aws", "--region", "eu-west-1"],
    "plan-gcp": ["plan", "gcp", "--project", "acme-data-prod", "--region", "europe-west1",
                 "--allowed-cidr", "203.0.113.10/32", "--project-repo", REPO_URL],
}  # fmt: skip


def _normalise(text: str, state: Path) -> str:
    return text.replace(str(state), "$STATE").replace(str(REPO), "$ROOT")


@pytest.mark.parametrize("case", sorted(DRY_RUNS))
def test_dry_run_prints_the_tfvars_and_commands(case: str, tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if k not in ("HEADRACE_TF_PROVIDER_MIRROR", "HEADRACE_INSTALL_DIR")}
    result = installer(*DRY_RUNS[case], "--state-dir", str(state), "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert not state.exists(), "a dry run must not write anything"
    assert_golden(f"dry-run-{case}.txt", _normalise(result.stdout, state))


def test_missing_settings_name_the_options_that_fix_them(tmp_path: Path) -> None:
    result = installer("gcp", "--region", "europe-west1", "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 1
    assert "project_repo: pass --project-repo" in result.stderr
    assert "allowed_cidrs: pass --allowed-cidr YOUR.PUBLIC.IP.ADDRESS/32" in result.stderr
    assert "project: pass --project YOUR_GCP_PROJECT_ID" in result.stderr
    assert "region" not in result.stderr.split("missing settings")[1]


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "10.0.0.0/0"])
def test_the_whole_internet_is_refused(cidr: str, tmp_path: Path) -> None:
    result = installer("aws", "--allowed-cidr", cidr, "--state-dir", str(tmp_path / "s"), "--dry-run")
    assert result.returncode == 1
    assert "would open the Airflow UI to the whole internet" in result.stderr


def test_a_malformed_cidr_is_refused(tmp_path: Path) -> None:
    result = installer("aws", "--allowed-cidr", "203.0.113.10", "--state-dir", str(tmp_path / "s"))
    assert result.returncode == 1
    assert "give your address as 203.0.113.10/32" in result.stderr


def test_destroy_without_an_install_says_where_it_looked(tmp_path: Path) -> None:
    result = installer("destroy", "azure", "--state-dir", str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert f"no azure install named 'headrace' in {tmp_path / 'nothing'}" in result.stderr


def _path_without(tmp_path: Path, *missing: str) -> str:
    """A PATH with the tools the installer uses, minus some."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in (
        "bash",
        "python3",
        "dirname",
        "sed",
        "mkdir",
        "chmod",
        "mktemp",
        "cat",
        "rm",
        "env",
        "grep",
        "terraform",
        "aws",
        "gcloud",
        "az",
        "ssh-keygen",
    ):
        if name in missing:
            continue
        found = shutil.which(name, path=f"{VENVS / 'awscli' / 'bin'}:{os.environ['PATH']}")
        if found:
            (bin_dir / name).symlink_to(found)
    return str(bin_dir)


def _aws_args(tmp_path: Path, endpoint: str) -> list[str]:
    return ["aws", "--region", "eu-west-1", "--allowed-cidr", "203.0.113.10/32", "--project-repo", REPO_URL,
            "--endpoint", endpoint, "--state-dir", str(tmp_path / "s"), "--yes"]  # fmt: skip


def test_preflight_names_the_fix_when_terraform_is_missing(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": _path_without(tmp_path, "terraform")}
    result = installer(*_aws_args(tmp_path, "http://127.0.0.1:9"), env=env)
    assert result.returncode == 1
    assert "terraform is not installed: install Terraform 1.11 or newer" in result.stderr


def test_preflight_names_the_fix_when_aws_is_not_signed_in(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "PATH": _path_without(tmp_path),
        "AWS_ACCESS_KEY_ID": "bogus",
        "AWS_SECRET_ACCESS_KEY": "bogus",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = installer(*_aws_args(tmp_path, closed), env=env, timeout=120)
    assert result.returncode == 1
    assert "the AWS CLI is not signed in: run 'aws configure' or 'aws sso login" in result.stderr
    assert not (tmp_path / "s" / "terraform.tfstate").exists()


def test_preflight_names_the_fix_for_gcloud_and_az(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": _path_without(tmp_path), "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
           "AZURE_CONFIG_DIR": str(tmp_path / "az"), "GCE_METADATA_HOST": "127.0.0.1:9",
           "GCE_METADATA_ROOT": "127.0.0.1:9"}  # fmt: skip
    gcp = installer("gcp", "--project", "acme-data-prod", "--region", "europe-west1", "--allowed-cidr",
                    "203.0.113.10/32", "--project-repo", REPO_URL, "--state-dir", str(tmp_path / "g"), env=env,
                    timeout=180)  # fmt: skip
    assert gcp.returncode == 1
    assert ("gcloud is not signed in: run 'gcloud auth login'" in gcp.stderr
            or "gcloud is not installed: install the Google Cloud CLI" in gcp.stderr), gcp.stderr  # fmt: skip
    azure = installer("azure", "--subscription", "11111111-2222-3333-4444-555555555555", "--location",
                      "westeurope", "--allowed-cidr", "203.0.113.10/32", "--project-repo", REPO_URL,
                      "--state-dir", str(tmp_path / "a"), env=env, timeout=180)  # fmt: skip
    assert azure.returncode == 1
    assert ("the Azure CLI (az) is not installed" in azure.stderr
            or "the Azure CLI is not signed in to subscription" in azure.stderr), azure.stderr  # fmt: skip


def test_azure_admin_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    """A new key on a re-run would replace both VMs: the first one is kept in the state dir."""
    env = {**os.environ, "PATH": _path_without(tmp_path, "az")}
    state = tmp_path / "state"
    args = ["azure", "--subscription", "11111111-2222-3333-4444-555555555555", "--location", "westeurope",
            "--allowed-cidr", "203.0.113.10/32", "--project-repo", REPO_URL, "--state-dir", str(state)]  # fmt: skip
    first = installer(*args, env=env)
    assert first.returncode == 1 and "the Azure CLI (az) is not installed" in first.stderr
    key = (state / "admin_ed25519.pub").read_text().strip()
    assert key.startswith("ssh-ed25519 ")
    assert json.loads((state / "terraform.tfvars.json").read_text())["admin_ssh_public_key"] == key
    (state / "admin_ed25519.pub").unlink()
    second = installer(*args, env=env)
    assert second.returncode == 1
    assert json.loads((state / "terraform.tfvars.json").read_text())["admin_ssh_public_key"] == key
    assert not (state / "admin_ed25519.pub").exists(), "no second key is made"
