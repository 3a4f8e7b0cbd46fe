"""Deployment settings (HEADRACE_DEPLOYMENT): an install's warehouse/storage/secrets blocks laid
over project.yaml's, validated by the same models, with errors that name the deployment file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from headrace.errors import ProjectInvalid
from headrace.project.compile import build_manifest
from headrace.project.deployment import ENV
from headrace.project.loader import load_project

from tests.helpers import TEMPLATE

pytestmark = pytest.mark.unit

POSTGRES = """\
# rendered by the install
warehouse:
  type: postgres
  host: warehouse.internal
  database: headrace
  user: headrace_admin
  password: ${secret:postgres_password}
  sslmode: require
storage:
  type: local
  path: /srv/headrace/storage
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(TEMPLATE, target, ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return target


def _deployment(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "etc" / "deployment.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    monkeypatch.setenv(ENV, str(path))
    return path


def _errors(project: Path) -> list[str]:
    with pytest.raises(ProjectInvalid) as caught:
        load_project(project)
    return [str(e) for e in caught.value.errors]


def test_without_the_variable_project_yaml_decides(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    config = load_project(project).config
    assert (config.warehouse.type, config.storage.type) == ("duckdb", "local")


def test_the_deployment_blocks_replace_project_yaml_s_in_the_manifest(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deployment(tmp_path, POSTGRES, monkeypatch)
    manifest = build_manifest(load_project(project))
    assert manifest.project.warehouse == {
        "type": "postgres",
        "host": "warehouse.internal",
        "port": 5432,
        "database": "headrace",
        "user": "headrace_admin",
        "password": "${secret:postgres_password}",
        "sslmode": "require",
        "connect_timeout": 15,
        "load_streams": 4,
    }
    assert manifest.project.storage == {"type": "local", "path": "/srv/headrace/storage"}


def test_a_block_the_file_leaves_out_stays_as_project_yaml_has_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deployment(tmp_path, "storage: {type: local, path: /data/raw}\n", monkeypatch)
    config = load_project(project).config
    assert config.storage.path == "/data/raw"
    assert (config.warehouse.type, config.warehouse.path) == ("duckdb", "warehouse.duckdb")


def test_errors_name_the_deployment_file_its_line_and_key(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _deployment(
        tmp_path, POSTGRES.replace("  sslmode: require", "  sslmod: require") + "workers: {}\n", monkeypatch
    )
    errors = _errors(project)
    assert f"{path}:8: warehouse.sslmod: unknown key (did you mean 'sslmode'? " in errors[0]
    assert errors[1].startswith(f"{path}:12: workers: unknown block (a deployment file holds only these blocks: ")
    assert len(errors) == 2, "project.yaml's own blocks are not reported again"


def test_an_unknown_warehouse_type_names_the_installed_ones(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _deployment(tmp_path, "warehouse: {type: oracle}\n", monkeypatch)
    [error] = _errors(project)
    assert error.startswith(f"{path}:1: warehouse.type: unknown type 'oracle' (use one of: ")
    assert "duckdb" in error and "postgres" in error


def test_a_missing_or_broken_file_is_a_project_error_naming_the_variable(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.yaml"
    monkeypatch.setenv(ENV, str(missing))
    [error] = _errors(project)
    assert error.startswith(f"{missing}: cannot be read (No such file or directory), named by {ENV}")
    broken = _deployment(tmp_path, "warehouse: [\n", monkeypatch)
    [error] = _errors(project)
    assert error.startswith(f"{broken}:") and "invalid YAML" in error
    _deployment(tmp_path, "- just a list\n", monkeypatch)
    assert "expected a mapping of blocks at the top" in _errors(project)[0]


def test_the_secrets_block_of_an_install_replaces_project_yaml_s(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _deployment(tmp_path, "secrets: {type: aws, region: eu-west-1, prefix: headrace/project/}\n", monkeypatch)
    secrets = load_project(project).config.secrets
    assert (secrets.type, secrets.region, secrets.prefix) == ("aws", "eu-west-1", "headrace/project/")
    _deployment(tmp_path, "secrets: {type: aws, regoin: eu-west-1}\n", monkeypatch)
    [error] = _errors(project)
    assert error.startswith(f"{path}:1: secrets.regoin: unknown key (did you mean 'region'? ")
