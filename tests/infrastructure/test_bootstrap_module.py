"""The provider-free bootstrap module, applied for real for each cloud: the cloud-init it
renders fits the clouds' user-data limits, carries the right secret-store helpers and
settings, and refuses values that would break the env files."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.infrastructure.tools import INFRA, run, run_ok, terraform_env, tool

pytestmark = pytest.mark.infra

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

ROOT_MODULE = """
variable "project_branch" {
  type    = string
  default = "main"
}

module "bootstrap" {
  source   = "%(source)s"
  for_each = toset(["aws", "gcp", "azure"])

  cloud = each.key
  artifact = {
    url    = "gs://headrace-bucket/artifacts/0123456789abcdef/headrace-0.1.0-py3-none-any.whl"
    sha256 = "%(sha)s"
    extras = "airflow,postgres,${each.key == "gcp" ? "gcs" : "s3"}"
  }
  deployment = {
    storage   = { type = "gcs", bucket = "headrace-bucket", project = "acme-data" }
    warehouse = { type = "bigquery", project = "acme-data", location = "EU" }
    secrets   = { type = "gcp", project = "acme-data", prefix = "headrace-project-" }
  }
  worker = {
    type = "gcp_vm", project = "acme-data", zone = "europe-west1-b", instance = "headrace-worker",
    idle_stop_after = 600
  }
  worker_host = "10.42.2.10"
  airflow_providers = ["apache-airflow-providers-amazon"]
  project_repo      = "git@github.com:acme/analytics-project.git"
  project_branch    = var.project_branch
  worker_image      = "ghcr.io/acme/headrace-worker:1.2.3"
  secrets = {
    admin_password     = "headrace-admin-password"
    deploy_key         = "headrace-project-deploy-key"
    worker_ssh_private = "headrace-worker-ssh-private-key"
    worker_ssh_public  = "headrace-worker-ssh-public-key"
    worker_ssh_host_key = "headrace-worker-ssh-host-key"
  }
  remote_log_folder   = "gs://headrace-bucket/logs/airflow"
  remote_log_conn_id  = "google_cloud_default"
  public_host         = "198.51.100.7"
  airflow_source_cidr = "10.42.1.0/24"
  headrace_env        = { GOOGLE_CLOUD_PROJECT = "acme-data" }
  bootstrap_env       = { GCP_PROJECT = "acme-data" }
}

output "user_data" {
  value = { for k, m in module.bootstrap : k => { airflow = m.airflow_user_data, worker = m.worker_user_data } }
}
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    work = tmp_path_factory.mktemp("bootstrap")
    (work / "main.tf").write_text(ROOT_MODULE % {"source": INFRA / "modules" / "bootstrap", "sha": SHA})
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
    assert env["GOOGLE_CLOUD_PROJECT"] == '"acme-data"'
    assert not [k for k in env if k.startswith("HEADRACE_WORKER")], "the deployment file's worker: block says it"
    boot = dict(line.split("=", 1) for line in files["/etc/headrace/bootstrap.env"].splitlines())
    assert (
        boot["HEADRACE_WHEEL_URL"]
        == '"gs://headrace-bucket/artifacts/0123456789abcdef/headrace-0.1.0-py3-none-any.whl"'
    )
    assert boot["HEADRACE_WHEEL_SHA256"] == f'"{SHA}"'
    assert boot["HEADRACE_EXTRAS"] == '"airflow,postgres,gcs"'
    assert "HEADRACE_PACKAGE" not in boot
    assert boot["GCP_PROJECT"] == '"acme-data"'
    assert boot["HEADRACE_WORKER_IMAGE"] == '"ghcr.io/acme/headrace-worker:1.2.3"', "an optional pre-pull"
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


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_both_vms_get_the_deployment_settings_and_the_variable_naming_them(
    cloud: str, rendered: dict[str, dict[str, str]]
) -> None:
    for role in ("airflow", "worker"):
        doc, files = _files(rendered[cloud][role])
        settings = yaml.safe_load(files["/etc/headrace/deployment.yaml"])
        worker = settings.pop("worker", None)
        assert settings == {
            "storage": {"type": "gcs", "bucket": "headrace-bucket", "project": "acme-data"},
            "warehouse": {"type": "bigquery", "project": "acme-data", "location": "EU"},
            "secrets": {"type": "gcp", "project": "acme-data", "prefix": "headrace-project-"},
        }
        if role == "worker":
            assert worker is None, "the worker VM does not start itself"
        else:
            # The SSH login is the key pair the Airflow VM makes for the headrace user.
            assert worker == {
                "type": "gcp_vm",
                "project": "acme-data",
                "zone": "europe-west1-b",
                "instance": "headrace-worker",
                "host": "10.42.2.10",
                "idle_stop_after": 600,
                "ssh_user": "headrace",
                "ssh_key_file": "/opt/headrace/.ssh/worker_ed25519",
            }
            script = files["/usr/local/sbin/headrace-bootstrap"]
            assert 'local key="$HEADRACE_HOME/.ssh/worker_ed25519"' in script
            # known_hosts names the worker at the block's host, with the host key the Airflow VM makes.
            boot = dict(line.split("=", 1) for line in files["/etc/headrace/bootstrap.env"].splitlines())
            assert boot["WORKER_HOST"] == '"10.42.2.10"'
            assert boot["SECRET_WORKER_SSH_HOST_KEY"] == '"headrace-worker-ssh-host-key"'
            assert "id headrace >/dev/null 2>&1 || useradd" in script
        env = dict(line.split("=", 1) for line in files["/etc/headrace/env"].splitlines())
        assert env["HEADRACE_DEPLOYMENT"] == '"/etc/headrace/deployment.yaml"'
        modes = {f["path"]: f["permissions"] for f in doc["write_files"]}
        assert modes["/etc/headrace/deployment.yaml"] == "0644", "readable by the headrace user; no secret in it"


def _fetch_headrace(tmp_path: Path, served: bytes, expected_sha: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the bootstrap's own fetch_headrace function with a fetch_object that serves ``served``."""
    script = (INFRA / "modules" / "bootstrap" / "files" / "headrace-bootstrap.sh").read_text()
    function = re.search(r"^fetch_headrace\(\) \{\n.*?^\}\n", script, re.S | re.M)
    assert function, "headrace-bootstrap.sh has no fetch_headrace function"
    (tmp_path / "served.whl").write_bytes(served)
    harness = tmp_path / "harness.sh"
    harness.write_text(
        "set -euo pipefail\n"
        f"ARTIFACTS={tmp_path / 'artifacts'}\n"
        "HEADRACE_WHEEL_URL=s3://bucket/artifacts/0123/headrace-0.1.0-py3-none-any.whl\n"
        f"HEADRACE_WHEEL_SHA256={expected_sha}\n"
        "log() { printf '%s\\n' \"$*\" >&2; }\n"
        f'fetch_object() {{ cp {tmp_path / "served.whl"} "$2"; }}\n'
        f"{function.group(0)}"
        "fetch_headrace\n"
    )
    result = run(["bash", str(harness)])
    return result, tmp_path / "artifacts" / "headrace-0.1.0-py3-none-any.whl"


def test_the_vm_installs_the_wheel_only_when_its_sha256_is_the_recorded_one(tmp_path: Path) -> None:
    wheel = b"PK\x03\x04 a wheel"
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    good, path = _fetch_headrace(tmp_path / "good", wheel, hashlib.sha256(wheel).hexdigest())
    assert good.returncode == 0, good.stderr
    assert path.read_bytes() == wheel
    bad, path = _fetch_headrace(tmp_path / "bad", b"PK\x03\x04 tampered", hashlib.sha256(wheel).hexdigest())
    assert bad.returncode == 1
    assert "does not have the sha256 Terraform recorded" in bad.stderr
    assert not path.exists() and not list(path.parent.iterdir()), "nothing is left to install"


def test_the_bootstrap_installs_that_file_never_a_package_by_name() -> None:
    script = (INFRA / "modules" / "bootstrap" / "files" / "headrace-bootstrap.sh").read_text()
    installs = [line.strip() for line in script.splitlines() if "headrace[" in line]
    wheel = '"headrace[$HEADRACE_EXTRAS] @ file://$ARTIFACTS/${HEADRACE_WHEEL_URL##*/}"'
    assert installs == [f"{wheel} $AIRFLOW_PROVIDERS psycopg2-binary"]
    assert script.index("retry 5 fetch_headrace") < script.index('"headrace[$HEADRACE_EXTRAS] @ file://')


@pytest.mark.parametrize("fails", [False, True])
def test_the_worker_s_first_set_up_keeps_sshd_stopped_until_the_host_key_is_in_place(
    fails: bool, tmp_path: Path
) -> None:
    """The bootstrap's stop_ssh/start_ssh with systemctl stubbed (it records calls; ssh.socket is
    the active unit, as on Ubuntu 24.04): sshd is stopped before the set-up, started again only
    after worker-keys, and also when a step in between fails (the EXIT trap)."""
    script = (INFRA / "modules" / "bootstrap" / "files" / "headrace-bootstrap.sh").read_text()
    functions = "".join(
        re.search(rf"^{name}\(\) \{{[^\n]*\n.*?^\}}\n", script, re.S | re.M).group(0)  # type: ignore[union-attr]
        for name in ("stop_ssh", "start_ssh")
    )
    body = re.search(r"^cmd_worker\(\) \{\n(.*?)^\}\n", script, re.S | re.M)
    assert body
    steps = [line.strip() for line in body.group(1).splitlines() if line.strip() and not line.strip().startswith("#")]
    assert steps[:2] == ["stop_ssh", "trap start_ssh EXIT"]
    keys = steps.index("systemctl enable --now headrace-worker-keys.service")
    assert steps[keys + 1] == "start_ssh" and "apt_install" in steps[2]
    calls = tmp_path / "calls"
    harness = (
        "set -euo pipefail\nSSH_STOPPED=()\nlog() { :; }\n"
        f'systemctl() {{ echo "$*" >>{calls}; [ "$1 ${{3:-}}" != "is-active ssh.service" ]; }}\n'
        f"{functions}stop_ssh\ntrap start_ssh EXIT\n"
        + ("false\n" if fails else "systemctl enable --now headrace-worker-keys.service\nstart_ssh\n")
    )
    result = run(["bash", "-c", harness])
    assert result.returncode == (1 if fails else 0)
    done = [] if fails else ["enable --now headrace-worker-keys.service"]
    assert calls.read_text().splitlines() == [
        "is-active --quiet ssh.socket",
        "stop ssh.socket",
        "is-active --quiet ssh.service",
        *done,
        "start ssh.socket",
    ]
