"""The DAG file in a real Airflow 3 DagBag: no import errors, the DAGs a user expects, nothing run at parse time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO
from tests.orchestrator.support import HEADRACE, copy_template

pytestmark = pytest.mark.airflow

DAG_FILE = REPO / "orchestrator" / "dags" / "headrace_dags.py"
GOLDEN = Path(__file__).parent / "golden" / "project_template_dags.json"


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(list(command), env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done


def compiled(project: Path) -> Path:
    done = subprocess.run([*HEADRACE, "compile", str(project)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return project / ".headrace" / "manifest.json"


def load_dagbag(tmp_path: Path, manifest: Path | None, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Load the DAG file the way the DAG processor does, in a fresh interpreter; describe what it built."""
    dags = tmp_path / "dags"
    dags.mkdir(exist_ok=True)
    run(*HEADRACE, "airflow", "install-dags", str(dags))
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), **(extra_env or {})}
    for key in ("HEADRACE_MANIFEST", "HEADRACE_HOME", "HEADRACE_PROJECT_REPO", "HEADRACE_UPDATE_SCHEDULE"):
        env.pop(key, None)
    if manifest is not None:
        env["HEADRACE_MANIFEST"] = str(manifest)
    env.update(extra_env or {})
    script = Path(__file__).parent / "describe_dags.py"
    done = run(sys.executable, str(script), str(dags), env=env)
    return json.loads(done.stdout.splitlines()[-1])


def test_example_project_dags_match_the_golden_description(tmp_path: Path) -> None:
    project = copy_template(tmp_path / "project")
    described = load_dagbag(tmp_path, compiled(project))
    assert described["import_errors"] == {}
    dags = described["dags"]
    for dag in dags.values():  # the deployment folder differs per machine: checked here, not in the golden file
        for task in dag["tasks"].values():
            if "project_dir" in task:
                assert task.pop("project_dir") == str(project)
    if os.environ.get("HEADRACE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(dags, indent=2, sort_keys=True) + "\n")
    assert dags == json.loads(GOLDEN.read_text()), "regenerate with HEADRACE_UPDATE_GOLDEN=1 if the change is intended"


def test_orchestration_follows_the_plan_of_headrace_run(tmp_path: Path) -> None:
    """Every task of a step waits for the whole previous step; continue_on_error lets later steps run."""
    project = copy_template(tmp_path / "project")
    (project / "orchestrations.yaml").write_text(
        "orchestrations:\n"
        "  - id: daily\n    schedule: '0 5 * * *'\n"
        "    tasks: [[extractor:shop, extractor:web, extractor:reference], transformation:sales,"
        " transformation:marketing, [datamart:sales, datamart:marketing]]\n"
        "  - id: best_effort\n    continue_on_error: true\n    schedule: null\n"
        "    tasks: [[extractor:shop, extractor:web], datamart:sales]\n"
    )
    dags = load_dagbag(tmp_path, compiled(project))["dags"]
    daily = dags["orchestration_daily"]["tasks"]
    assert daily["transformation.sales"]["upstream"] == ["extractor.reference", "extractor.shop", "extractor.web"]
    for datamart in ("datamart.sales", "datamart.marketing"):
        assert daily[datamart]["upstream"] == ["transformation.marketing"]
    best = dags["orchestration_best_effort"]
    assert best["schedule"] is None
    assert best["tasks"]["datamart.sales"] == {
        **best["tasks"]["datamart.sales"],
        "upstream": ["extractor.shop", "extractor.web"],
        "trigger_rule": "all_done",
    }
    # the run still ends failed when a task failed: a last task that fails only then
    assert best["tasks"]["fail_if_any_failed"]["trigger_rule"] == "one_failed"
    assert best["tasks"]["fail_if_any_failed"]["upstream"] == ["datamart.sales", "extractor.shop", "extractor.web"]


def test_without_a_deployed_manifest_only_project_update_is_offered(tmp_path: Path) -> None:
    described = load_dagbag(tmp_path, None, {"HEADRACE_HOME": str(tmp_path / "empty-home")})
    assert described["import_errors"] == {}
    assert list(described["dags"]) == ["project_update"]
    assert "trigger project_update" in described["dags"]["project_update"]["doc_md"]


def test_project_update_schedule_is_configurable(tmp_path: Path) -> None:
    project = copy_template(tmp_path / "project")
    manifest = compiled(project)
    assert load_dagbag(tmp_path, manifest)["dags"]["project_update"]["schedule"] == "*/5 * * * *"
    manual = load_dagbag(tmp_path, manifest, {"HEADRACE_UPDATE_SCHEDULE": "none"})
    assert manual["dags"]["project_update"]["schedule"] is None


def test_parsing_runs_no_subprocess_network_or_project_code(tmp_path: Path) -> None:
    """An audit hook watches the DAG file being executed: it may open the manifest and import modules, nothing else."""
    project = copy_template(tmp_path / "project")
    manifest = compiled(project)
    (project / "dags").mkdir()
    (project / "dags" / "custom.py").write_text("raise SystemExit('project code ran at parse time')\n")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "HEADRACE_MANIFEST": str(manifest)}
    script = Path(__file__).parent / "audit_parse.py"
    done = subprocess.run(
        [sys.executable, str(script), str(DAG_FILE)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["dag_count"] == 11  # with headrace_sandbox and headrace_sandbox_sweeper
    assert report["forbidden"] == []
    assert report["data_files"] == [str(manifest)]
