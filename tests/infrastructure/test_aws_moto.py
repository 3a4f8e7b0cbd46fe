"""./install.sh aws end to end against a moto server: install, inspect what was created the way
a platform owner would (boto3), destroy. One apply and one destroy (~2 minutes). The Snowflake
warehouse is applied here; the Postgres (RDS) variant is checked on its plan in
test_aws_terraform.py, because RDS waits make an apply against moto take twice as long."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from headrace.secrets import SecretResolver

from tests.helpers import TEMPLATE, headrace, open_test_warehouse
from tests.infrastructure.tools import REPO, installer, run

pytestmark = [pytest.mark.infra, pytest.mark.slow]

ALLOWED = ["203.0.113.10/32", "198.51.100.0/24"]
REGION = "eu-west-1"
DATAMARTS = ("dm_sales.revenue_by_month", "dm_sales.orders", "dm_marketing.conversion_by_country")
DEPLOY_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-for-tests\n-----END OPENSSH PRIVATE KEY-----\n"


@dataclass
class Install:
    state: Path
    stdout: str
    outputs: dict[str, Any]
    endpoint: str
    env: dict[str, str]

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def _outputs(state: Path) -> dict[str, Any]:
    doc = json.loads((state / "terraform.tfstate").read_text())
    return {k: v["value"] for k, v in doc["outputs"].items()}


@pytest.fixture(scope="module")
def install(
    moto_endpoint: str, aws_env: dict[str, str], moto_ami: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Install]:
    state = tmp_path_factory.mktemp("install") / "aws"
    key = state.parent / "deploy_key"
    key.write_text(DEPLOY_KEY)
    cidrs = [arg for cidr in ALLOWED for arg in ("--allowed-cidr", cidr)]
    result = installer(
        "aws", "--yes", "--endpoint", moto_endpoint, "--region", REGION, *cidrs,
        "--project-repo", "https://git.example.invalid/acme/analytics.git", "--warehouse", "snowflake",
        "--ami", moto_ami, "--deploy-key", str(key), "--state-dir", str(state),
        "--var", "secret_recovery_window_days=0", "--var", 'snowflake={"account": "acme-test"}',
        env=aws_env,
    )  # fmt: skip
    assert result.returncode == 0, f"install failed\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    yield Install(state, result.stdout, _outputs(state), moto_endpoint, aws_env)


def _instances(inst: Install) -> dict[str, dict[str, Any]]:
    ec2 = inst.client("ec2")
    found = {}
    for reservation in ec2.describe_instances()["Reservations"]:
        for instance in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
            if tags.get("headrace:install") == "headrace" and instance["State"]["Name"] != "terminated":
                found[tags["headrace:role"]] = instance
    return found


def test_installer_prints_the_airflow_url_and_where_the_password_is(install: Install) -> None:
    url = install.outputs["airflow_url"]
    assert re.fullmatch(r"https://\d+\.\d+\.\d+\.\d+/", url)
    assert f"Airflow UI:      {url}" in install.stdout
    assert "Password:        stored in headrace/airflow-admin-password" in install.stdout
    assert "aws secretsmanager get-secret-value --region eu-west-1 --secret-id headrace/airflow-admin-password" in (
        install.stdout
    )
    assert "Deploy key:      headrace/project-deploy-key (set)" in install.stdout
    tfvars = json.loads((install.state / "terraform.tfvars.json").read_text())
    assert tfvars["allowed_cidrs"] == ALLOWED and tfvars["warehouse"] == "snowflake"


def test_airflow_runs_and_the_worker_is_stopped_without_a_public_ip(install: Install) -> None:
    instances = _instances(install)
    assert set(instances) == {"airflow", "worker"}
    airflow, worker = instances["airflow"], instances["worker"]
    assert airflow["State"]["Name"] == "running"
    assert worker["State"]["Name"] == "stopped"
    assert airflow.get("PublicIpAddress") == install.outputs["airflow_url"].split("/")[2]
    assert not worker.get("PublicIpAddress"), "the worker must not have a public IP"
    for instance in (airflow, worker):
        assert instance["MetadataOptions"]["HttpTokens"] == "required", "IMDSv2 only"
        assert instance["IamInstanceProfile"]["Arn"].endswith(f"/headrace-{_role(instance)}")
    volumes = install.client("ec2").describe_volumes()["Volumes"]
    attached = [v for v in volumes if any(a["InstanceId"] in (airflow["InstanceId"], worker["InstanceId"])
                                          for a in v["Attachments"])]  # fmt: skip
    assert len(attached) == 2 and all(v["Encrypted"] for v in attached)


def _role(instance: dict[str, Any]) -> str:
    return next(t["Value"] for t in instance["Tags"] if t["Key"] == "headrace:role")


def test_the_worker_reaches_the_internet_only_through_nat(install: Install) -> None:
    ec2 = install.client("ec2")
    worker = _instances(install)["worker"]
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [worker["SubnetId"]]}])
    routes = [r for t in tables["RouteTables"] for r in t["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert len(routes) == 1 and routes[0].get("NatGatewayId", "").startswith("nat-")
    subnet = ec2.describe_subnets(SubnetIds=[worker["SubnetId"]])["Subnets"][0]
    assert subnet["MapPublicIpOnLaunch"] is False


def test_security_groups_open_only_https_from_allowed_cidrs_and_no_ssh(install: Install) -> None:
    ec2 = install.client("ec2")
    vpc_id = _instances(install)["airflow"]["VpcId"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    names = {g["GroupId"]: g["GroupName"] for g in groups}
    seen_https: set[str] = set()
    for group in groups:
        for perm in group["IpPermissions"]:
            cidrs = [r["CidrIp"] for r in perm.get("IpRanges", [])] + [
                r["CidrIpv6"] for r in perm.get("Ipv6Ranges", [])
            ]
            assert "0.0.0.0/0" not in cidrs and "::/0" not in cidrs, f"{group['GroupName']} is open to the internet"
            if cidrs:
                assert set(cidrs) <= set(ALLOWED), f"{group['GroupName']} admits {cidrs}"
                assert (perm["IpProtocol"], perm["FromPort"], perm["ToPort"]) == ("tcp", 443, 443)
                seen_https.update(cidrs)
            if perm.get("FromPort") == 22:
                sources = {names[p["GroupId"]] for p in perm["UserIdGroupPairs"]}
                assert (group["GroupName"], sources, cidrs) == ("headrace-worker", {"headrace-airflow"}, [])
    assert seen_https == set(ALLOWED)
    default = next(g for g in groups if g["GroupName"] == "default")
    assert default["IpPermissions"] == [] and default["IpPermissionsEgress"] == []


def test_bucket_is_private_encrypted_versioned_and_expires_raw_files(install: Install) -> None:
    s3 = install.client("s3")
    bucket = install.outputs["bucket"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block[k] for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == install.outputs["kms_key_arn"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    raw = [r for r in rules if r.get("Filter", {}).get("Prefix") == "raw/"]
    assert len(raw) == 1 and raw[0]["Status"] == "Enabled" and raw[0]["Expiration"]["Days"] == 30
    kms = install.client("kms").describe_key(KeyId=install.outputs["kms_key_arn"])["KeyMetadata"]
    assert kms["KeyState"] == "Enabled"
    assert install.client("kms").get_key_rotation_status(KeyId=kms["KeyId"])["KeyRotationEnabled"] is True


def _statements(iam: Any, role: str) -> list[dict[str, Any]]:
    out = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        out.extend(doc["Statement"])
    return out


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


@pytest.mark.parametrize("role", ["airflow", "worker", "transformation", "datamart-reader"])
def test_each_component_role_is_scoped_to_this_bucket_and_key(install: Install, role: str) -> None:
    iam = install.client("iam")
    bucket_arn = f"arn:aws:s3:::{install.outputs['bucket']}"
    statements = _statements(iam, f"headrace-{role}")
    assert statements, f"headrace-{role} has no policy"
    for st in statements:
        actions, resources = _as_list(st["Action"]), _as_list(st["Resource"])
        assert "*" not in actions and "s3:*" not in actions and "iam:*" not in actions, st
        if any(a.startswith("s3:") for a in actions):
            assert all(r == bucket_arn or r.startswith(f"{bucket_arn}/") for r in resources), st
        if "*" in resources:
            assert all(a.startswith("ec2:Describe") for a in actions), f"{role}: {st}"
        if any(a.startswith("kms:") for a in actions):
            assert resources == [install.outputs["kms_key_arn"]]
    writes = {r for st in statements for r in _as_list(st["Resource"])
              if any(a in ("s3:PutObject", "s3:DeleteObject") for a in _as_list(st["Action"]))}  # fmt: skip
    expected = {
        "airflow": {f"{bucket_arn}/raw/*", f"{bucket_arn}/logs/*", f"{bucket_arn}/datamarts/*"},
        "worker": {f"{bucket_arn}/raw/*"},
        "transformation": {f"{bucket_arn}/transformations/*"},
        "datamart-reader": set(),
    }
    assert writes == expected[role]
    if role in ("airflow", "worker"):
        attached = iam.list_attached_role_policies(RoleName=f"headrace-{role}")["AttachedPolicies"]
        assert [p["PolicyName"] for p in attached] == ["AmazonSSMManagedInstanceCore"], "shells go through SSM"


def test_admin_password_is_in_secrets_manager_and_nowhere_in_state_or_user_data(install: Install) -> None:
    secrets = install.client("secretsmanager")
    password = secrets.get_secret_value(SecretId="headrace/airflow-admin-password")["SecretString"]
    assert re.fullmatch(r"[A-Za-z0-9]{32}", password)
    assert password not in (install.state / "terraform.tfstate").read_text()
    ec2 = install.client("ec2")
    airflow = _instances(install)["airflow"]
    user_data = ec2.describe_instance_attribute(InstanceId=airflow["InstanceId"], Attribute="userData")
    assert password not in base64.b64decode(user_data["UserData"]["Value"]).decode()
    deploy = secrets.get_secret_value(SecretId="headrace/project-deploy-key")["SecretString"]
    assert deploy == DEPLOY_KEY
    described = secrets.describe_secret(SecretId="headrace/airflow-admin-password")
    assert described["KmsKeyId"] == install.outputs["kms_key_arn"]


def test_snowflake_stage_role_reads_raw_files_only_and_trusts_only_this_account(install: Install) -> None:
    iam = install.client("iam")
    bucket_arn = f"arn:aws:s3:::{install.outputs['bucket']}"
    role = iam.get_role(RoleName="headrace-snowflake-stage")["Role"]
    assert install.outputs["roles"]["snowflake_stage"] == role["Arn"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    principals = [st["Principal"]["AWS"] for st in trust["Statement"]]
    assert principals == ["arn:aws:iam::123456789012:root"], "until Snowflake's user is known, only this account"
    statements = _statements(iam, "headrace-snowflake-stage")
    actions = {a for st in statements for a in _as_list(st["Action"])}
    assert actions == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"}
    reads = [r for st in statements if "s3:GetObject" in _as_list(st["Action"]) for r in _as_list(st["Resource"])]
    assert reads == [f"{bucket_arn}/raw/*"]
    assert install.client("rds").describe_db_instances()["DBInstances"] == [], "no RDS with a Snowflake warehouse"


def _cloud_init(install: Install, role: str) -> tuple[dict[str, Any], dict[str, str]]:
    instance = _instances(install)[role]
    raw = install.client("ec2").describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="userData")
    text = base64.b64decode(raw["UserData"]["Value"]).decode()
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    files = {}
    for entry in doc["write_files"]:
        assert entry["encoding"] == "gz+b64"
        files[entry["path"]] = gzip.decompress(base64.b64decode(entry["content"])).decode()
    return doc, files


def _env(text: str) -> dict[str, str]:
    return {k: v.strip('"') for k, _, v in (line.partition("=") for line in text.splitlines() if line)}


def test_airflow_bootstrap_installs_headrace_airflow_https_and_remote_logs(install: Install, tmp_path: Path) -> None:
    doc, files = _cloud_init(install, "airflow")
    assert doc["runcmd"][-1] == ["systemctl", "enable", "--now", "--no-block", "headrace-setup@airflow.service"]
    env = _env(files["/etc/headrace/env"])
    bucket = install.outputs["bucket"]
    assert env["HEADRACE_HOME"] == "/opt/headrace"
    assert env["HEADRACE_PROJECT_REPO"] == "https://git.example.invalid/acme/analytics.git"
    assert env["HEADRACE_PROJECT_BRANCH"] == "main"
    assert env["AIRFLOW_HOME"] == "/opt/headrace/airflow"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/headrace/dags"
    assert env["AIRFLOW__LOGGING__REMOTE_LOGGING"] == "True"
    assert env["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"] == f"s3://{bucket}/logs/airflow"
    assert env["AIRFLOW__API__BASE_URL"] == install.outputs["airflow_url"]
    assert not [k for k in env if k.startswith("HEADRACE_WORKER")], "the deployment file's worker: block says it"
    boot = _env(files["/etc/headrace/bootstrap.env"])
    assert boot["HEADRACE_WHEEL_URL"] == install.outputs["headrace_wheel"]["url"]
    assert boot["HEADRACE_WHEEL_URL"].startswith(f"s3://{bucket}/artifacts/")
    assert boot["HEADRACE_WHEEL_SHA256"] == install.outputs["headrace_wheel"]["sha256"]
    assert boot["HEADRACE_EXTRAS"] == "airflow,snowflake,s3,aws"
    assert boot["SECRET_ADMIN_PASSWORD"] == "headrace/airflow-admin-password"
    script = files["/usr/local/sbin/headrace-bootstrap"]
    assert "postgresql+psycopg2://airflow:" in script
    assert 'headrace airflow install-dags "$AIRFLOW__CORE__DAGS_FOLDER"' in script
    for component in ("scheduler", "dag-processor", "triggerer", "api-server"):
        assert f"airflow@{component}.service" in script
    assert "ExecStart=/opt/headrace/venv/bin/airflow %i" in files["/etc/systemd/system/airflow@.service"]
    assert "listen 443 ssl" in files["/usr/local/lib/headrace/nginx-airflow.conf"]
    bootstrap = tmp_path / "headrace-bootstrap"
    bootstrap.write_text(script)
    assert run(["bash", "-n", str(bootstrap)]).returncode == 0
    assert script == (REPO / "infrastructure/modules/bootstrap/files/headrace-bootstrap.sh").read_text()


def test_worker_bootstrap_installs_docker_and_trusts_only_airflow(install: Install) -> None:
    doc, files = _cloud_init(install, "worker")
    assert doc["runcmd"][-1][-1] == "headrace-setup@worker.service"
    # Stopped by Terraform right after creation, the worker must still set itself up at its next start.
    assert "systemctl enable --now --no-block headrace-setup@worker.service" in doc["bootcmd"][0][-1]
    assert "apt_install docker.io" in files["/usr/local/sbin/headrace-bootstrap"]
    boot = _env(files["/etc/headrace/bootstrap.env"])
    assert boot["AIRFLOW_SOURCE_CIDR"] == "10.42.0.0/20"
    assert "/etc/systemd/system/headrace-worker-keys.service" in files


def test_a_rerun_keeps_the_saved_settings_and_changes_only_what_is_given(install: Install) -> None:
    """Upgrading needs no options again: the state dir keeps them (shown by a dry run)."""
    saved = (install.state / "terraform.tfvars.json").read_text()
    result = installer("aws", "--state-dir", str(install.state), "--project-branch", "release", "--dry-run")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.split("):\n", 1)[1].split("\n# commands", 1)[0])
    assert shown == {**json.loads(saved), "project_branch": "release"}
    assert (install.state / "terraform.tfvars.json").read_text() == saved, "a dry run writes nothing"


def test_the_wheel_the_installer_built_is_in_the_bucket_and_the_vm_installs_it_only_if_its_hash_matches(
    install: Install, tmp_path: Path
) -> None:
    """The VM's own fetch code (the rendered helpers and bootstrap function) against the emulated S3."""
    tfvars = json.loads((install.state / "terraform.tfvars.json").read_text())
    wheel = Path(tfvars["headrace_wheel"])
    assert wheel.parent == install.state / "dist", "the installer built it into the state dir"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "headrace/project/deployment.py" in names and "headrace/orchestrator/__init__.py" in names
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    url = install.outputs["headrace_wheel"]["url"]
    assert install.outputs["headrace_wheel"]["sha256"] == digest
    assert url == f"s3://{install.outputs['bucket']}/artifacts/{digest[:16]}/{wheel.name}"
    obj = install.client("s3").get_object(Bucket=install.outputs["bucket"], Key=url.split("/", 3)[3])
    assert obj["Metadata"] == {"sha256": digest}
    assert hashlib.sha256(obj["Body"].read()).hexdigest() == digest

    _, files = _cloud_init(install, "airflow")
    script = files["/usr/local/sbin/headrace-bootstrap"]
    function = re.search(r"^fetch_headrace\(\) \{\n.*?^\}\n", script, re.S | re.M)
    assert function
    (tmp_path / "secrets.sh").write_text(files["/usr/local/lib/headrace/secrets.sh"])
    env = {**install.env, "AWS_ENDPOINT_URL": install.endpoint, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}

    def fetch(sha: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        artifacts = tmp_path / sha[:8]
        harness = (
            f"set -euo pipefail\nARTIFACTS={artifacts}\nHEADRACE_WHEEL_URL={url}\nHEADRACE_WHEEL_SHA256={sha}\n"
            f"log() {{ printf '%s\\n' \"$*\" >&2; }}\n. {tmp_path / 'secrets.sh'}\n{function.group(0)}fetch_headrace\n"
        )
        return run(["bash", "-c", harness], env=env), artifacts / wheel.name

    fetched, path = fetch(digest)
    assert fetched.returncode == 0, fetched.stderr
    assert path.read_bytes() == wheel.read_bytes()
    refused, path = fetch("0" * 64)
    assert refused.returncode == 1 and "does not have the sha256 Terraform recorded" in refused.stderr
    assert not path.exists()


def test_the_vms_get_the_deployment_settings_of_this_bucket_snowflake_and_secrets_manager(install: Install) -> None:
    expected = {
        "storage": {
            "type": "s3",
            "bucket": install.outputs["bucket"],
            "region": REGION,
            "endpoint_url": install.endpoint,
        },
        "warehouse": {
            "type": "snowflake",
            "account": "acme-test",
            "user": "HEADRACE",
            "password": "${secret:snowflake_password}",
            "role": "HEADRACE",
            "warehouse": "HEADRACE",
            "database": "HEADRACE",
        },
        "secrets": {"type": "aws", "region": REGION, "prefix": "headrace/project/", "endpoint_url": install.endpoint},
    }
    worker = _instances(install)["worker"]
    assert yaml.safe_load(install.outputs["deployment"]) == {
        **expected,
        "worker": {
            "type": "aws_vm",
            "instance_id": worker["InstanceId"],
            "region": REGION,
            "endpoint_url": install.endpoint,
            "host": worker["PrivateIpAddress"],
            "ssh_user": "headrace",
            "ssh_key_file": "/opt/headrace/.ssh/worker_ed25519",
            "idle_stop_after": 600,
        },
    }
    for role in ("airflow", "worker"):
        _, files = _cloud_init(install, role)
        if role == "airflow":
            assert files["/etc/headrace/deployment.yaml"] == install.outputs["deployment"]
        else:
            assert yaml.safe_load(files["/etc/headrace/deployment.yaml"]) == expected, "the worker starts no VM"
        assert _env(files["/etc/headrace/env"])["HEADRACE_DEPLOYMENT"] == "/etc/headrace/deployment.yaml"
    # ${secret:snowflake_password} is a secret of the install, which only the Airflow VM may read.
    secrets = install.client("secretsmanager")
    secret = secrets.describe_secret(SecretId="headrace/project/snowflake_password")
    assert secret["KmsKeyId"] == install.outputs["kms_key_arn"]
    reads = [
        r
        for st in _statements(install.client("iam"), "headrace-airflow")
        if "secretsmanager:GetSecretValue" in _as_list(st["Action"])
        for r in _as_list(st["Resource"])
    ]
    project_secrets = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:headrace/project/*"
    assert project_secrets in reads
    creates = [
        st
        for st in _statements(install.client("iam"), "headrace-airflow")
        if "secretsmanager:CreateSecret" in _as_list(st["Action"])
    ]
    assert [_as_list(st["Resource"]) for st in creates] == [[project_secrets]], "datamart reader credentials only"
    worker_reads = [
        r
        for st in _statements(install.client("iam"), "headrace-worker")
        if "secretsmanager:GetSecretValue" in _as_list(st["Action"])
        for r in _as_list(st["Resource"])
    ]
    assert all("headrace/project/" not in r for r in worker_reads)


def test_the_example_project_runs_on_the_install_s_bucket_with_the_deployment_settings_the_vm_got(
    install: Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One step past the install: the example project, its project.yaml unchanged (DuckDB and a
    local folder), runs with HEADRACE_DEPLOYMENT naming the deployment file from the Airflow VM's
    user data, so its extracts go through the emulated S3 bucket the install created. Only the
    warehouse block is swapped: Snowflake cannot run here, DuckDB stands in for it. Its secrets
    block is the install's: ${secret:snowflake_password} resolves from the secret the install
    created in the emulated Secrets Manager."""
    _, files = _cloud_init(install, "airflow")
    settings = yaml.safe_load(files["/etc/headrace/deployment.yaml"])
    assert settings["storage"]["bucket"] == install.outputs["bucket"]
    settings["warehouse"] = {"type": "duckdb", "path": "warehouse.duckdb"}  # stands in for Snowflake
    # Tasks run here, not on the VM worker (its runs are tested in tests/workers).
    assert settings.pop("worker")["type"] == "aws_vm"
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(yaml.safe_dump(settings))
    project = tmp_path / "coffee_shop"
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns(".headrace", "__pycache__", "__init__.py"))
    state = tmp_path / "state"
    env = {**install.env, "HEADRACE_DEPLOYMENT": str(deployment), "HEADRACE_STATE_DIR": str(state)}
    result = headrace("run", "--project", str(project), env=env, timeout=600)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"

    s3 = install.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=install.outputs["bucket"], Prefix="raw/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    tables = {"/".join(k.split("/")[1:3]) for k in keys}
    assert tables == {"shop/customers", "shop/orders", "shop/products", "web/sessions", "reference/countries",
                      "reference/currencies"}  # fmt: skip
    assert any(k.startswith("raw/shop/orders/") and k.endswith("/schema.json") for k in keys)
    assert not (state / "storage").exists(), "nothing went to the local folder project.yaml names"
    with open_test_warehouse(settings["warehouse"], state) as warehouse:
        _, totals = warehouse.query("SELECT sum(orders), sum(items), sum(revenue_eur) FROM dm_sales.revenue_by_month")
        counts = {t: warehouse.query(f"SELECT count(*) FROM {t}")[1][0][0] for t in DATAMARTS}
    assert [tuple(r) for r in totals] == [(1595, 3890, Decimal("264989.58"))]
    assert counts == {
        "dm_sales.revenue_by_month": 60,
        "dm_sales.orders": 1595,
        "dm_marketing.conversion_by_country": 42,
    }

    # The Snowflake password the owner puts into the secret the install made, as a task resolves it.
    password = "sf-Pa55-" + hashlib.sha256(install.state.name.encode()).hexdigest()[:16]
    install.client("secretsmanager").put_secret_value(
        SecretId="headrace/project/snowflake_password", SecretString=password
    )
    compiled = tmp_path / "manifest.json"
    compiled_run = headrace("compile", str(project), "-o", str(compiled), env=env)
    assert compiled_run.returncode == 0, compiled_run.stderr
    secrets = json.loads(compiled.read_text())["project"]["secrets"]
    assert secrets == settings["secrets"], "the manifest carries the install's secrets block"
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_EC2_METADATA_DISABLED"):
        monkeypatch.setenv(key, install.env[key])  # the VM's identity: boto3's default chain
    resolver = SecretResolver(project, secrets)
    assert resolver.secret("snowflake_password") == password


def test_the_worker_block_the_airflow_vm_gets_is_valid_and_names_the_worker_instance(
    install: Install, tmp_path: Path
) -> None:
    """`headrace validate` of the example project with HEADRACE_DEPLOYMENT naming the Airflow VM's
    deployment file (from its user data, as the VM gets it): Headrace's own project model accepts
    the worker: block, and the block names the instance moto has as the worker, at its fixed
    private address, with the SSH key the Airflow VM's bootstrap writes for the headrace user."""
    _, files = _cloud_init(install, "airflow")
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text(files["/etc/headrace/deployment.yaml"])
    project = tmp_path / "coffee_shop"
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns(".headrace", "__pycache__", "__init__.py"))
    env = {**install.env, "HEADRACE_DEPLOYMENT": str(deployment), "HEADRACE_STATE_DIR": str(tmp_path / "state")}
    result = headrace("validate", str(project), env=env)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"

    worker = yaml.safe_load(deployment.read_text())["worker"]
    instance = _instances(install)["worker"]
    assert (worker["instance_id"], worker["host"]) == (instance["InstanceId"], instance["PrivateIpAddress"])
    assert worker["endpoint_url"] == install.endpoint and worker["region"] == REGION
    script = files["/usr/local/sbin/headrace-bootstrap"]
    assert 'local key="$HEADRACE_HOME/.ssh/worker_ed25519"' in script
    assert _env(files["/etc/headrace/env"])["HEADRACE_HOME"] + "/.ssh/worker_ed25519" == worker["ssh_key_file"]

    # A broken block is refused, naming the file and the key: the check above can fail.
    deployment.write_text(files["/etc/headrace/deployment.yaml"].replace('"instance_id"', '"instance"'))
    refused = headrace("validate", str(project), env=env)
    assert refused.returncode == 2 and str(deployment) in refused.stdout + refused.stderr


def _role_policy(install: Install, role: str) -> Any:
    from moto.iam.access_control import IAMPolicy

    iam = install.client("iam")
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return IAMPolicy(doc if isinstance(doc, str) else json.dumps(doc))


def test_only_the_airflow_role_may_start_and_stop_the_worker_and_only_that_instance(install: Install) -> None:
    """moto has no IAM policy simulator: the role policies, as moto's IAM holds them, are evaluated
    with moto's own policy engine (moto.iam.access_control). The airflow role may start, stop and
    describe the worker instance; not the Airflow instance nor any other; the worker role nothing."""
    from moto.iam.access_control import PermissionResult

    instances = _instances(install)
    arn = "arn:aws:ec2:eu-west-1:123456789012:instance/{}".format
    worker, airflow = arn(instances["worker"]["InstanceId"]), arn(instances["airflow"]["InstanceId"])
    other = arn("i-0123456789abcdef0")
    allowed = PermissionResult.PERMITTED
    operator = _role_policy(install, "headrace-airflow")
    for action in ("ec2:StartInstances", "ec2:StopInstances"):
        assert operator.is_action_permitted(action, worker) == allowed, action
        for resource in (airflow, other, "*"):
            assert operator.is_action_permitted(action, resource) != allowed, (action, resource)
    assert operator.is_action_permitted("ec2:DescribeInstances", "*") == allowed
    for action in ("ec2:TerminateInstances", "ec2:ModifyInstanceAttribute", "ec2:RunInstances"):
        assert operator.is_action_permitted(action, worker) != allowed, action
    worker_role = _role_policy(install, "headrace-worker")
    for action in ("ec2:StartInstances", "ec2:StopInstances"):
        for resource in (worker, airflow, "*"):
            assert worker_role.is_action_permitted(action, resource) != allowed, (action, resource)


def test_the_airflow_vm_knows_the_worker_s_host_key_before_the_worker_starts(install: Install) -> None:
    """The Airflow VM makes the worker's SSH host key (its known_hosts names the worker's address);
    the worker may read it and nothing else may write it (moto's policy engine, as above)."""
    from moto.iam.access_control import PermissionResult

    _, files = _cloud_init(install, "airflow")
    boot = _env(files["/etc/headrace/bootstrap.env"])
    assert boot["WORKER_HOST"] == _instances(install)["worker"]["PrivateIpAddress"]
    assert boot["SECRET_WORKER_SSH_HOST_KEY"] == "headrace/worker-ssh-host-key"
    host_key = install.client("secretsmanager").describe_secret(SecretId="headrace/worker-ssh-host-key")
    assert host_key["KmsKeyId"] == install.outputs["kms_key_arn"]
    arn, allowed = host_key["ARN"], PermissionResult.PERMITTED
    airflow, worker = _role_policy(install, "headrace-airflow"), _role_policy(install, "headrace-worker")
    assert airflow.is_action_permitted("secretsmanager:PutSecretValue", arn) == allowed
    assert airflow.is_action_permitted("secretsmanager:GetSecretValue", arn) == allowed
    assert worker.is_action_permitted("secretsmanager:GetSecretValue", arn) == allowed
    assert worker.is_action_permitted("secretsmanager:PutSecretValue", arn) != allowed
    _, worker_files = _cloud_init(install, "worker")
    assert "install_host_key" in worker_files["/usr/local/sbin/headrace-bootstrap"]


def test_destroy_asks_before_deleting_then_removes_everything(install: Install) -> None:
    """The bucket is protected (no force-destroy) by default; destroy lifts that, data included."""
    s3 = install.client("s3")
    s3.put_object(Bucket=install.outputs["bucket"], Key="raw/crm/customers/run1/part-00000.csv.gz", Body=b"x")
    refused = installer("destroy", "aws", "--state-dir", str(install.state), env=install.env, timeout=120)
    assert refused.returncode == 1
    assert "no terminal to ask for confirmation: re-run with --yes" in refused.stderr
    assert set(_instances(install)) == {"airflow", "worker"}, "nothing may be deleted without confirmation"

    result = installer("destroy", "aws", "--yes", "--state-dir", str(install.state), env=install.env)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert _instances(install) == {}
    assert "Lifting deletion protection on the bucket and warehouse" in result.stderr
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert install.outputs["bucket"] not in buckets
    # the session's moto also holds other tests' secrets (tests/secrets): this install's are named headrace/...
    left = [x["Name"] for x in install.client("secretsmanager").list_secrets()["SecretList"]]
    assert [name for name in left if name.startswith("headrace/")] == []
    assert install.client("rds").describe_db_instances()["DBInstances"] == []
    vpcs = install.client("ec2").describe_vpcs(Filters=[{"Name": "tag:headrace:install", "Values": ["headrace"]}])
    assert vpcs["Vpcs"] == []
    assert json.loads((install.state / "terraform.tfstate").read_text())["resources"] == []
