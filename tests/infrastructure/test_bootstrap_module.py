"""The provider-free bootstrap module, applied for real for each cloud: the cloud-init it
renders fits the clouds' user-data limits, carries the right secret-store helpers and
settings, and refuses values that would break the env files."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infrastructure.tools import INFRA, run, run_ok, terraform_env, tool

pytestmark = pytest.mark.infra

ROOT_MODULE = """
variable "project_branch" {
  type    = string
  default = "main"
}

module "bootstrap" {
  source   = "%(source)s"
  for_each = toset(["aws", "gcp", "azure"])

  cloud             = each.key
  headrace_package  = "headrace[airflow,postgres,${each.key == "gcp" ? "gcs" : "s3"}]"
  airflow_providers = ["apache-airflow-providers-amazon"]
  project_repo      = "git@github.com:acme/analytics-project.git"
  project_branch    = var.project_branch
  worker_image      = "ghcr.io/acme/headrace-worker:1.2.3"
  secrets = {
    admin_password     = "headrace-admin-password"
    deploy_key         = "headrace-project-deploy-key"
    worker_ssh_private = "headrace-worker-ssh-private-key"
    worker_ssh_public  = "headrace-worker-ssh-public-key"
  }
  remote_log_folder   = "gs://headrace-bucket/logs/airflow"
  remote_log_conn_id  = "google_cloud_default"
  public_host         = "198.51.100.7"
  airflow_source_cidr = "10.42.1.0/24"
  headrace_env        = { HEADRACE_WORKER_HOST = "10.42.2.10" }
  bootstrap_env       = { GCP_PROJECT = "acme-data" }
}

output "user_data" {
  value = { for k, m in module.bootstrap : k => { airflow = m.airflow_user_data, worker = m.worker_user_data } }
}
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    work = tmp_path_factory.mktemp("bootstrap")
    (work / "main.tf").write_text(ROOT_MODULE % {"source": INFRA / "modules" / "bootstrap"})
    env = terraform_env(work)
    run_ok([tool("terraform"), f"-chdir={work}", "init", "-input=false"], env=env)
    return work, env


@pytest.fixture(scope="module")
def rendered(workdir: tuple[Path, dict[str, str]]) -> dict[str, dict[str, str]]:
    work, env = workdir
    run_ok([tool("terraform"), f"-chdir={work}", "apply", "-input=false", "-auto-approve"], env=env)
    out = run_ok([tool("terraform"), f"-chdir={work}", "output", "-json", "user_data"], env=env)
    return json.loads(out.stdout)


def _files(user_data: str) -> tuple[dict[str, Any], dict[str, str]]:
    doc = yaml.safe_load(user_data)
    files = {f["path"]: gzip.decompress(base64.b64decode(f["content"])).decode() for f in doc["write_files"]}
    return doc, files


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_user_data_fits_every_clouds_limit(cloud: str, rendered: dict[str, dict[str, str]]) -> None:
    for role, user_data in rendered[cloud].items():
        # EC2 takes 16 KiB of user data before base64; Azure custom_data and GCP metadata allow more.
        assert len(user_data.encode()) < 16 * 1024, f"{cloud} {role} user data is {len(user_data)} bytes"


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_each_cloud_gets_its_secret_store_helpers(cloud: str, rendered: dict[str, dict[str, str]]) -> None:
    helpers = (INFRA / "modules" / "bootstrap" / "files" / f"secrets-{cloud}.sh").read_text()
    for role in ("airflow", "worker"):
        _, files = _files(rendered[cloud][role])
        assert files["/usr/local/lib/headrace/secrets.sh"] == helpers
        assert "read_secret()" in helpers and "write_secret()" in helpers


def test_airflow_settings_are_rendered_as_given(rendered: dict[str, dict[str, str]]) -> None:
    doc, files = _files(rendered["gcp"]["airflow"])
    env = dict(line.split("=", 1) for line in files["/etc/headrace/env"].splitlines())
    assert env["HEADRACE_PROJECT_REPO"] == '"git@github.com:acme/analytics-project.git"'
    assert env["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"] == '"gs://headrace-bucket/logs/airflow"'
    assert env["HEADRACE_PUBLIC_SAN"] == '"IP:198.51.100.7"', "the self-signed certificate names the public IP"
    assert env["HEADRACE_WORKER_HOST"] == '"10.42.2.10"'
    boot = dict(line.split("=", 1) for line in files["/etc/headrace/bootstrap.env"].splitlines())
    assert boot["HEADRACE_PACKAGE"] == '"headrace[airflow,postgres,gcs]"'
    assert boot["GCP_PROJECT"] == '"acme-data"'
    assert boot["HEADRACE_WORKER_IMAGE"] == '"ghcr.io/acme/headrace-worker:1.2.3"'
    modes = {f["path"]: f["permissions"] for f in doc["write_files"]}
    assert modes["/etc/headrace/bootstrap.env"] == "0600"
    assert modes["/usr/local/sbin/headrace-bootstrap"] == "0755"


@pytest.mark.parametrize("branch", ['main"; rm -rf /', "main$(id)", "main`id`"])
def test_values_that_would_break_the_env_files_are_refused(
    branch: str, workdir: tuple[Path, dict[str, str]], rendered: dict[str, dict[str, str]]
) -> None:
    work, env = workdir
    result = run(
        [tool("terraform"), f"-chdir={work}", "plan", "-input=false", "-no-color", "-var", f"project_branch={branch}"],
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert "project_branch must not contain quotes, backslashes" in " ".join(result.stderr.split())
