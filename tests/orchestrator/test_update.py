"""Project updates with real git remotes, without Airflow: what ``project_update`` runs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from headrace.errors import ConfigError, ProjectInvalid
from headrace.orchestrator import deployments
from headrace.orchestrator.settings import Home, Source
from headrace.orchestrator.update import update_project

from tests.orchestrator.support import HEADRACE, ProjectRemote, copy_template

pytestmark = pytest.mark.unit

BROKEN_EXTRACTOR = "type: file\ntables:\n  - name: broken\n    path: data/broken.csv\n"  # no columns


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / ".headrace" / "manifest.json").read_text())


def test_a_valid_commit_is_compiled_and_becomes_current(tmp_path: Path, project_remote: ProjectRemote) -> None:
    home = Home(tmp_path / "home")
    result = update_project(home, Source(str(project_remote.bare), "main", None), tmp_path / "dags", log=lambda _: None)
    commit = project_remote.head()
    assert result.status == "deployed"
    assert result.version == commit
    assert home.current.resolve() == home.deployments / commit
    assert manifest_of(home.current)["project"]["commit"] == commit
    assert deployments.deployed(home)["commit"] == commit
    again = update_project(home, Source(str(project_remote.bare), "main", None), tmp_path / "dags", log=lambda _: None)
    assert again.status == "unchanged"


def test_an_invalid_commit_is_rejected_with_its_errors_and_the_running_version_stays(
    tmp_path: Path, project_remote: ProjectRemote
) -> None:
    home, source = Home(tmp_path / "home"), Source(str(project_remote.bare), "main", None)
    good = update_project(home, source, None, log=lambda _: None).version
    before = (home.current / ".headrace" / "manifest.json").read_bytes()
    project_remote.push("broken extractor", lambda w: (w / "extractors" / "broken.yaml").write_text(BROKEN_EXTRACTOR))
    with pytest.raises(ProjectInvalid) as rejected:
        update_project(home, source, None, log=lambda _: None)
    assert any(e.file == "extractors/broken.yaml" and e.path == "tables[0].columns" for e in rejected.value.errors)
    assert home.current.resolve().name == good
    assert (home.current / ".headrace" / "manifest.json").read_bytes() == before
    assert [p.name for p in home.deployments.iterdir()] == [good], "no scratch folder or half deployment is left"
    last = json.loads(home.last_update_file.read_text())
    assert last["status"] == "invalid" and last["version"] == project_remote.head()
    assert any("extractors/broken.yaml" in e for e in last["errors"])


def test_update_project_command_exits_2_and_prints_the_errors(tmp_path: Path, project_remote: ProjectRemote) -> None:
    """What the project_update DAG task runs and streams into its log."""
    env = {
        **os.environ,
        "HEADRACE_HOME": str(tmp_path / "home"),
        "HEADRACE_PROJECT_REPO": str(project_remote.bare),
        "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
    }
    command = [*HEADRACE, "airflow", "update-project"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert f"deployed: {project_remote.head()}" in first.stdout
    good = project_remote.head()
    project_remote.push("broken extractor", lambda w: (w / "extractors" / "broken.yaml").write_text(BROKEN_EXTRACTOR))
    second = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert second.returncode == 2
    assert f"still running {good}" in second.stdout
    assert "extractors/broken.yaml:3: tables[0].columns: required" in second.stderr


def test_custom_dags_are_linked_into_the_dags_folder_and_removed_with_them(
    tmp_path: Path, project_remote: ProjectRemote
) -> None:
    home, source, dags = Home(tmp_path / "home"), Source(str(project_remote.bare), "main", None), tmp_path / "dags"

    def add_dag(work: Path) -> None:
        (work / "dags").mkdir()
        (work / "dags" / "team_report.py").write_text("# a team's own Airflow DAG\n")

    project_remote.push("custom DAG", add_dag)
    update_project(home, source, dags, log=lambda _: None)
    assert (dags / "project_dags" / "team_report.py").read_text() == "# a team's own Airflow DAG\n"
    project_remote.push("drop it", lambda w: subprocess.run(["git", "rm", "-rq", "dags"], cwd=w, check=True))
    update_project(home, source, dags, log=lambda _: None)
    assert not (dags / "project_dags").exists()


def test_a_missing_branch_is_reported_with_what_to_do(tmp_path: Path, project_remote: ProjectRemote) -> None:
    with pytest.raises(ConfigError, match="HEADRACE_PROJECT_BRANCH"):
        update_project(Home(tmp_path / "home"), Source(str(project_remote.bare), "prod", None), None, log=print)


def test_a_folder_source_deploys_a_snapshot_and_only_changes_count(tmp_path: Path) -> None:
    project = copy_template(tmp_path / "project")
    home, source = Home(project / ".headrace" / "airflow"), Source(None, "main", project)
    first = update_project(home, source, None, log=lambda _: None)
    assert first.status == "deployed"
    assert update_project(home, source, None, log=lambda _: None).status == "unchanged"
    sql = project / "transformations" / "sales" / "20_revenue_by_month.sql"
    sql.write_text(sql.read_text().replace("ORDER BY month, country", "ORDER BY country, month"))
    second = update_project(home, source, None, log=lambda _: None)
    assert second.status == "deployed" and second.version != first.version
    files = manifest_of(home.current)["tasks"]["transformation:sales"]["sql"]
    statements = next(f["statements"] for f in files if f["file"] == "20_revenue_by_month.sql")
    assert statements[0]["sql"].endswith("ORDER BY country, month")
    assert manifest_of(home.current)["project"]["commit"] is None, "a folder snapshot is not a commit"
    assert (home.deployments / first.version).is_dir(), "the previous version stays for runs still using it"


def test_a_dag_run_keeps_the_version_it_started_on(tmp_path: Path, project_remote: ProjectRemote) -> None:
    home, source = Home(tmp_path / "home"), Source(str(project_remote.bare), "main", None)
    old = update_project(home, source, None, log=lambda _: None).path
    assert deployments.pinned_project(home, "orchestration_daily", "run-1", old) == (old, None)
    project_remote.push("new SQL", lambda w: (w / "README.md").write_text("changed\n"))
    new = update_project(home, source, None, log=lambda _: None).path
    assert deployments.pinned_project(home, "orchestration_daily", "run-1", new) == (old, None)
    assert deployments.pinned_project(home, "orchestration_daily", "run-2", new) == (new, None)


def test_old_deployments_are_pruned_but_current_and_pinned_ones_stay(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    folders = []
    for n in range(8):
        folder = home.deployments / f"v{n}"
        (folder / ".headrace").mkdir(parents=True)
        (folder / ".headrace" / "manifest.json").write_text("{}")
        os.utime(folder, (1000 + n, 1000 + n))
        folders.append(folder)
    deployments.replace_symlink(home.current, "deployments/v0")
    deployments.pinned_project(home, "dag", "run", folders[1])
    removed = deployments.prune(home, keep=3)
    assert sorted(p.name for p in removed) == ["v2", "v3", "v4"]
    assert sorted(p.name for p in home.deployments.iterdir()) == ["v0", "v1", "v5", "v6", "v7"]
