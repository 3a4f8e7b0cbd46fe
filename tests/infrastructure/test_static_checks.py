"""Formatting, linting and policy checks on everything under infrastructure/."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure.tools import CLOUDS, INFRA, REPO, run, run_ok, tool

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


@pytest.fixture(scope="module")
def checkov_reports() -> dict[str, dict[str, Any]]:
    """checkov on each root module, the three runs side by side (one run with several -d
    scans the first directory several times)."""
    procs = {
        cloud: subprocess.Popen(
            [tool("checkov"), "-d", str(INFRA / cloud), "--framework", "terraform", "--skip-download", "-o", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cloud in CLOUDS
    }
    reports = {}
    for cloud, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 1), err[-3000:]
        report = json.loads(out)
        reports[cloud] = report[0] if isinstance(report, list) else report
    return reports


@pytest.mark.parametrize("cloud", CLOUDS)
def test_checkov_finds_nothing_and_every_skip_gives_its_reason(
    cloud: str, checkov_reports: dict[str, dict[str, Any]]
) -> None:
    results = checkov_reports[cloud]["results"]
    assert checkov_reports[cloud]["summary"]["resource_count"] > 20
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in results["failed_checks"]]
    assert failed == [], "checkov failures: fix them or skip inline with a reason"
    assert results["parsing_errors"] == []
    assert len(results["passed_checks"]) > 40, "checkov evaluated suspiciously few checks"
    for check in results["skipped_checks"]:
        reason = (check["check_result"].get("suppress_comment") or "").strip()
        assert len(reason) >= 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"
