"""The AWS root module initialises from the local provider mirror, validates, and refuses
bad settings before touching the cloud."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.tools import INFRA, fake_wheel, run, run_ok, terraform_env, tool

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("tf-validate")
    env = {**terraform_env(work), "TF_DATA_DIR": str(work / ".terraform")}
    run_ok(
        [
            tool("terraform"),
            f"-chdir={INFRA / 'aws'}",
            "init",
            "-input=false",
            f"-backend-config=path={work / 'terraform.tfstate'}",
        ],
        env=env,
    )
    return env


def test_init_takes_the_pinned_aws_provider_from_the_mirror(initialised: dict[str, str]) -> None:
    result = run_ok([tool("terraform"), f"-chdir={INFRA / 'aws'}", "version", "-json"], env=initialised)
    providers = json.loads(result.stdout)["provider_selections"]
    assert providers["registry.terraform.io/hashicorp/aws"].startswith("5.")


def test_validate_passes(initialised: dict[str, str]) -> None:
    result = run_ok([tool("terraform"), f"-chdir={INFRA / 'aws'}", "validate", "-json"], env=initialised)
    report = json.loads(result.stdout)
    assert report["valid"] is True and report["error_count"] == 0, report


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        (
            {"allowed_cidrs": ["0.0.0.0/0"], "warehouse": "bigquery", "endpoint": "https://s3.example.com"},
            [
                "must not contain a /0 range",
                'warehouse must be "snowflake" or "postgres" on AWS',
                "endpoint must be empty or a local emulator URL",
            ],
        ),
        (
            {"allowed_cidrs": [], "name": "Bad_Name", "headrace_wheel": "/dist/headrace-0.1.0.tar.gz"},
            [
                "allowed_cidrs needs at least one CIDR",
                "name must be 3-20",
                "headrace_wheel must be the path of a headrace-*.whl file",
                'with warehouse = "snowflake" give the account',
            ],
        ),
    ],
    ids=["internet-bigquery-remote-endpoint", "no-cidr-bad-name-no-wheel-no-snowflake-account"],
)
def test_plan_refuses_unsafe_or_invalid_settings(
    overrides: dict[str, object], messages: list[str], initialised: dict[str, str], tmp_path: Path
) -> None:
    tfvars = {
        "region": "eu-west-1",
        "allowed_cidrs": ["203.0.113.10/32"],
        "project_repo": "https://git.example.invalid/acme/project.git",
        "endpoint": "http://127.0.0.1:9",
        "headrace_wheel": str(fake_wheel(tmp_path)),
        **overrides,
    }
    var_file = tmp_path / "t.tfvars.json"
    var_file.write_text(json.dumps(tfvars))
    result = run(
        [tool("terraform"), f"-chdir={INFRA / 'aws'}", "plan", "-input=false", "-no-color", f"-var-file={var_file}"],
        env=initialised,
        timeout=120,
    )
    assert result.returncode != 0
    errors = " ".join(result.stderr.split())
    for message in messages:
        assert message in errors, result.stderr[-3000:]


def _planned(module: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(module.get("resources", []))
    for child in module.get("child_modules", []):
        found.extend(_planned(child))
    return found


def test_postgres_plan_is_private_encrypted_and_protected_by_default(
    initialised: dict[str, str], aws_env: dict[str, str], moto_endpoint: str, moto_ami: str, tmp_path: Path
) -> None:
    """The RDS variant, checked on its plan against moto (an apply adds minutes of RDS waits)."""
    env = {**aws_env, "TF_DATA_DIR": initialised["TF_DATA_DIR"]}
    var_file = tmp_path / "pg.tfvars.json"
    var_file.write_text(
        json.dumps(
            {
                "region": "eu-west-1",
                "allowed_cidrs": ["203.0.113.10/32"],
                "project_repo": "https://git.example.invalid/acme/project.git",
                "warehouse": "postgres",
                "endpoint": moto_endpoint,
                "ami_id": moto_ami,
                "headrace_wheel": str(fake_wheel(tmp_path)),
            }
        )
    )
    plan = tmp_path / "pg.tfplan"
    chdir = f"-chdir={INFRA / 'aws'}"
    run_ok([tool("terraform"), chdir, "plan", "-input=false", f"-var-file={var_file}", f"-out={plan}"], env=env)
    shown = json.loads(run_ok([tool("terraform"), chdir, "show", "-json", str(plan)], env=env).stdout)
    resources = {r["address"]: r["values"] for r in _planned(shown["planned_values"]["root_module"])}
    db = resources["aws_db_instance.warehouse[0]"]
    assert db["publicly_accessible"] is False
    assert db["storage_encrypted"] is True
    assert db["deletion_protection"] is True, "protect_data defaults to true"
    # The generated password goes to RDS and to the secret the deployment settings name, write-only.
    assert db.get("password") is None and db.get("password_wo") is None and db["password_wo_version"] == 1
    secret = resources["aws_secretsmanager_secret.warehouse_password"]
    assert secret["name"] == "headrace/project/postgres_password"
    version = resources["aws_secretsmanager_secret_version.warehouse_password[0]"]
    assert version.get("secret_string") is None and version["secret_string_wo_version"] == 1
    assert db["skip_final_snapshot"] is False
    assert resources["aws_s3_bucket.this"]["force_destroy"] is False
    rules = [v for a, v in resources.items() if a.startswith("aws_vpc_security_group_ingress_rule.postgres")]
    assert len(rules) == 2 and all(r["cidr_ipv4"] is None and r["from_port"] == 5432 for r in rules)
    params = {p["name"]: p["value"] for p in resources["aws_db_parameter_group.warehouse[0]"]["parameter"]}
    assert params["rds.force_ssl"] == "1"
