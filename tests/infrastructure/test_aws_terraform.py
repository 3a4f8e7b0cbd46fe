"""The AWS root module initialises from the local provider mirror, validates, and refuses
bad settings before touching the cloud."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.infrastructure.tools import INFRA, run, run_ok, terraform_env, tool

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
        ({"allowed_cidrs": [], "name": "Bad_Name"}, ["allowed_cidrs needs at least one CIDR", "name must be 3-20"]),
    ],
    ids=["internet-bigquery-remote-endpoint", "no-cidr-bad-name"],
)
def test_plan_refuses_unsafe_or_invalid_settings(
    overrides: dict[str, object], messages: list[str], initialised: dict[str, str], tmp_path: Path
) -> None:
    tfvars = {
        "region": "eu-west-1",
        "allowed_cidrs": ["203.0.113.10/32"],
        "project_repo": "https://git.example.invalid/acme/project.git",
        "endpoint": "http://127.0.0.1:9",
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
