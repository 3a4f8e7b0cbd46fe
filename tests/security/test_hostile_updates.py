"""A project update with hostile content is rejected and the running version keeps running.

What the ``project_update`` DAG runs (``update_project``), with real git remotes and folders.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from headrace.errors import ProjectInvalid
from headrace.orchestrator.settings import Home, Source
from headrace.orchestrator.update import update_project

from tests.orchestrator.support import ProjectRemote, copy_template
from tests.security.hostile import alias_bomb

pytestmark = pytest.mark.unit

WEB = "extractors/web.yaml"


def quiet(_line: str) -> None:
    pass


def rejected_and_still_running(home: Home, source: Source, good: str) -> list[str]:
    """Run the update: it must raise ``ProjectInvalid``, keep ``good`` current and leave no scratch folder."""
    before = (home.current / ".headrace" / "manifest.json").read_bytes()
    with pytest.raises(ProjectInvalid) as rejected:
        update_project(home, source, None, log=quiet)
    assert home.current.resolve().name == good
    assert (home.current / ".headrace" / "manifest.json").read_bytes() == before
    assert [p.name for p in home.deployments.iterdir()] == [good], "no scratch folder or half deployment is left"
    last = json.loads(home.last_update_file.read_text())
    assert last["status"] == "invalid"
    return [str(e) for e in rejected.value.errors]


def deployed(tmp_path: Path, remote: ProjectRemote) -> tuple[Home, Source, str]:
    home, source = Home(tmp_path / "home"), Source(str(remote.bare), "main", None)
    return home, source, update_project(home, source, None, log=quiet).version


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        ("datamarts.yaml", alias_bomb().encode(), "datamarts.yaml:1: aliases expand to more than 10,000 values"),
        ("project.yaml", b"name: coffee_shop\x00\n", "project.yaml:1: contains a NUL byte at line 1"),
        ("orchestrations.yaml", ("a: " + "[" * 5000 + "]" * 5000).encode(), "nested more than 50 levels deep"),
        ("transformations/sales/30_x.sql", b"select 'caf\xe9'\n", "30_x.sql:1: not UTF-8 at line 1 (byte 0xe9)"),
    ],
    ids=["alias-bomb", "nul-byte", "deep-nesting", "latin1-sql"],
)
def test_hostile_file_in_a_commit_is_rejected_and_the_running_version_stays(
    tmp_path: Path, project_remote: ProjectRemote, file: str, content: bytes, expected: str
) -> None:
    home, source, good = deployed(tmp_path, project_remote)
    project_remote.push("hostile", lambda w: (w / file).write_bytes(content))
    errors = rejected_and_still_running(home, source, good)
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../../../../etc/passwd"], ids=["absolute", "dotdot"])
def test_commit_with_a_symlink_out_of_the_project_is_rejected(
    tmp_path: Path, project_remote: ProjectRemote, target: str
) -> None:
    home, source, good = deployed(tmp_path, project_remote)
    project_remote.push("link out", lambda w: (w / "data" / "users.csv").symlink_to(target))
    errors = rejected_and_still_running(home, source, good)
    assert len(errors) == 1 and errors[0].startswith("data/users.csv: refused: "), errors
    assert "replace the link by the file it points to" in errors[0]


def test_folder_source_with_a_symlink_out_of_the_project_is_rejected(tmp_path: Path) -> None:
    """Copying the folder keeps the link a link, so validation sees where it leads (not a copy of its target)."""
    folder = copy_template(tmp_path / "src")
    home, source = Home(tmp_path / "home"), Source(None, "main", folder)
    good = update_project(home, source, None, log=quiet).version
    text = (folder / WEB).read_text().replace("data/sessions.csv.gz", "data/users.csv\n    format: csv")
    (folder / WEB).write_text(text.replace("load: full", "compression: none\n    load: full"))
    (folder / "data" / "users.csv").symlink_to("/etc/passwd")
    errors = rejected_and_still_running(home, source, good)
    assert any(
        "'data/users.csv' leads out of the project folder through a symlink (to /etc/passwd)" in e for e in errors
    )


def test_folder_source_with_a_fifo_neither_hangs_nor_deploys_it(tmp_path: Path) -> None:
    folder = copy_template(tmp_path / "src")
    os.mkfifo(folder / "data" / "pipe.csv")
    home = Home(tmp_path / "home")
    result = update_project(home, Source(None, "main", folder), None, log=quiet)
    assert result.status == "deployed"
    assert not (result.path / "data" / "pipe.csv").exists()


def test_custom_dags_are_not_linked_when_project_yaml_switches_them_off(
    tmp_path: Path, project_remote: ProjectRemote
) -> None:
    home, source, dags = Home(tmp_path / "home"), Source(str(project_remote.bare), "main", None), tmp_path / "dags"

    def add_dag(work: Path) -> None:
        (work / "dags").mkdir()
        (work / "dags" / "team_report.py").write_text("# a team's own Airflow DAG\n")

    project_remote.push("custom DAG", add_dag)
    update_project(home, source, dags, log=quiet)
    assert (dags / "project_dags" / "team_report.py").is_file(), "on by default"

    def switch_off(work: Path) -> None:
        text = (work / "project.yaml").read_text()
        (work / "project.yaml").write_text(text + "security:\n  custom_dags: false\n")

    project_remote.push("no custom DAGs", switch_off)
    update_project(home, source, dags, log=quiet)
    assert not (dags / "project_dags").exists()
    assert (home.current / "dags" / "team_report.py").is_file(), "the file is deployed, only not given to Airflow"
