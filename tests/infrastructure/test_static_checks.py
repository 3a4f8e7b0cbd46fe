"""Formatting, linting and policy checks on everything under infrastructure/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.infrastructure.tools import INFRA, REPO, run, run_ok, tool

pytestmark = pytest.mark.infra

SHELL_SCRIPTS = [
    INFRA / "install-cloud.sh",
    *sorted((INFRA / "modules" / "bootstrap" / "files").glob("*.sh")),
    REPO / "tests" / "setup.d" / "50-infra.sh",
]


def test_terraform_files_are_formatted() -> None:
    result = run([tool("terraform"), "fmt", "-check", "-recursive", "-diff", str(INFRA)])
    assert result.returncode == 0, f"run `terraform fmt -recursive infrastructure`:\n{result.stdout}"


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: p.name)
def test_shell_scripts_parse_and_are_shellcheck_clean(script: Path) -> None:
    run_ok(["bash", "-n", str(script)])
    result = run([tool("shellcheck"), "-x", "--source-path=SCRIPTDIR", str(script)], cwd=script.parent)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_checkov_finds_nothing_and_every_skip_gives_its_reason(cloud: str) -> None:
    result = run(
        [tool("checkov"), "-d", str(INFRA / cloud), "--framework", "terraform", "--skip-download", "-o", "json"],
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    results = report["results"]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in results["failed_checks"]]
    assert failed == [], "checkov failures: fix them or skip inline with a reason"
    assert report["summary"]["parsing_errors"] == 0
    assert len(results["passed_checks"]) > 40, "checkov evaluated suspiciously few checks"
    for check in results["skipped_checks"]:
        reason = (check["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) >= 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"
    assert result.returncode == 0
