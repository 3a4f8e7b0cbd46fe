"""The code stays ruff-clean, keeps DESIGN §2's import rules and type-checks.

The import contracts (``[tool.importlinter]`` in pyproject.toml) and the type checker
(pyright, ``[tool.pyright]``) read the package as installed, through the link tree of
tests/package_tree.py: the repository's folders are one ``headrace`` package only for the
editable install's import hook, which static tools do not run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests import package_tree
from tests.helpers import REPO

pytestmark = pytest.mark.unit

BIN = Path(sys.executable).parent


def test_ruff_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", str(REPO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_toolkit_loads_no_driver_or_airflow() -> None:
    code = (
        "import sys, headrace.cli, headrace.runner, headrace.project.loader, headrace.warehouses.duckdb;"
        "bad = [m for m in ('airflow', 'psycopg', 'boto3', 'google.cloud', 'snowflake', 'duckdb') if m in sys.modules];"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# -- import contracts -------------------------------------------------------------------------


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with pyproject.toml's contracts over the ``headrace`` package under ``tree``."""
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache", str(REPO / "pyproject.toml")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_contracts_hold(tmp_path: Path) -> None:
    tree = package_tree.build(tmp_path)
    result = lint_imports(tree)
    assert result.returncode == 0, package_tree.to_repo_paths(result.stdout + result.stderr, tree)
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


def test_import_contracts_catch_a_toolkit_module_that_imports_airflow_or_a_component(tmp_path: Path) -> None:
    tree = package_tree.build(tmp_path)
    rogue = [
        "from airflow.sdk import DAG",
        "from headrace.orchestrator import settings",
        "import headrace.extractors.files",
    ]
    (tree / "headrace" / "rogue.py").write_text("\n".join(rogue) + "\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line.split(" BROKEN")[0] for line in result.stdout.splitlines() if " BROKEN" in line]
    assert broken == [
        "Only the orchestrator imports Airflow: the toolkit and the components never do",
        "Only the orchestrator imports the orchestrator",
        "Components are found through the plugin registry: nothing else imports them",
    ]
    for imported, line in (("airflow", 1), ("headrace.orchestrator.settings", 2), ("headrace.extractors.files", 3)):
        assert f"- headrace.rogue -> {imported} (l.{line})" in result.stdout


# -- type checker ---------------------------------------------------------------------------


def pyright(tree: Path) -> list[dict]:
    """pyright's diagnostics for the ``headrace`` package under ``tree`` (settings: ``[tool.pyright]``)."""
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pyright"]
    (tree / "pyrightconfig.json").write_text(json.dumps({**settings, "include": ["headrace"]}))
    result = subprocess.run(
        [sys.executable, "-m", "pyright", "--outputjson", "--pythonpath", sys.executable, "--project", str(tree)],
        cwd=tree,
        env={**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"pyright did not run (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    modules = len(list((tree / "headrace").rglob("*.py")))
    assert report["summary"]["filesAnalyzed"] == modules, report["summary"]  # every module, links followed
    return report["generalDiagnostics"]


def describe(diagnostic: dict, tree: Path) -> str:
    """``file:line:column: severity: message (rule)`` with the repository's path of the file."""
    start = diagnostic["range"]["start"]
    file = package_tree.to_repo_paths(diagnostic.get("file", "?"), tree)
    rule = f" ({diagnostic['rule']})" if "rule" in diagnostic else ""
    return (
        f"{file}:{start['line'] + 1}:{start['character'] + 1}: {diagnostic['severity']}: {diagnostic['message']}{rule}"
    )


PROBE = '''
"""Not Headrace: an extractor that breaks the protocol, to show the checker notices."""
from headrace.components.extractor import ExtractContext, ExtractorFactory


class Extractor:
    def __init__(self, config: object, context: ExtractContext) -> None: ...

    def extract(self, table: object) -> None: ...


factory: ExtractorFactory = Extractor
'''


def test_the_package_type_checks_and_extractors_match_their_protocol(tmp_path: Path) -> None:
    tree = package_tree.build(tmp_path)
    # One run checks the package and proves the check can fail: a probe extractor breaking
    # the protocol sits beside it, and only the probe may be reported.
    probe = tree / "headrace" / "probe_extractor.py"
    probe.write_text(PROBE)
    diagnostics = pyright(tree)
    found = [describe(d, tree) for d in diagnostics if d.get("file") != str(probe)]
    if found:
        pytest.fail("pyright (basic) finds:\n" + "\n".join(found), pytrace=False)
    probe_errors = [d for d in diagnostics if d.get("file") == str(probe) and d["severity"] == "error"]
    assert [d["range"]["start"]["line"] + 1 for d in probe_errors] == [PROBE.count("\n")], diagnostics
    assert '"extract"' in probe_errors[0]["message"], probe_errors[0]["message"]


def test_the_type_checked_extractors_are_the_registered_ones() -> None:
    from headrace import plugins
    from headrace.extractors.conformance import BUILT_IN

    # container extractors run one image for all their tables: the runner hands them to headrace.containers
    ours = {n: p for n, p in plugins.plugins("extractor").items() if p.distribution == "headrace"}
    built_in = {n: p for n, p in ours.items() if n != "container"}
    registered = {name: p.load() for name, p in built_in.items()}
    assert registered == BUILT_IN
