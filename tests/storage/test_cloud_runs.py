"""The example project run with `headrace run` on each cloud storage (its emulator) gives the datamarts
the local-storage run gives; a PostgreSQL warehouse loads from S3; storage keys given as
``${secret:...}`` appear in no output, log, table or file.

One run per storage: DuckDB reads cloud parts streamed through ``storage.open`` (its native
path is ``file://`` only), PostgreSQL streams them into COPY.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.emulators.moto import AWS_ENV
from tests.helpers import TEMPLATE, headrace, open_test_warehouse, run_ok
from tests.pgserver import PgServer, fresh_database
from tests.postgres import project as pgproject
from tests.postgres.source import execute
from tests.storage.backends import config_for, open_config

pytestmark = pytest.mark.integration

DATAMARTS = ["dm_sales.revenue_by_month", "dm_sales.orders", "dm_marketing.conversion_by_country"]
KEY_ID = "AKIAHEADRACE7Q2W9E4R"  # moto accepts any key: these stand for real ones
SECRET_KEY = "hr/Secret+Value+9f8e7d6c5b4a3f2e1d0c9b8a7"


def run_example(root: Path, storage: dict[str, Any] | None, env: dict[str, str] | None = None) -> Path:
    """Copy the example project, point its storage at ``storage``, `headrace run` it; its state dir."""
    project = root / "shop"
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns(".headrace", "__pycache__", "__init__.py"))
    if storage is not None:
        config = yaml.safe_load((project / "project.yaml").read_text())
        config["storage"] = storage
        (project / "project.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    state = root / "state"
    run_ok("run", "--project", str(project), env={"HEADRACE_STATE_DIR": str(state), **(env or {})})
    return state


def datamarts(state: Path) -> dict[str, list[tuple]]:
    """Every datamart's rows without Headrace's per-run columns, sorted."""
    found = {}
    with open_test_warehouse({"type": "duckdb", "path": "warehouse.duckdb"}, state) as wh:
        for table in DATAMARTS:
            columns, rows = wh.query(f"SELECT * FROM {table}")
            keep = [i for i, c in enumerate(columns) if not c.startswith("_headrace_")]
            found[table] = sorted((tuple(r[i] for i in keep) for r in rows), key=repr)
    return found


@pytest.fixture(scope="module")
def local_datamarts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    found = datamarts(run_example(tmp_path_factory.mktemp("local"), None))
    assert all(found.values()), found
    return found


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_example_project_on_cloud_storage_matches_local(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, local_datamarts: dict[str, list[tuple]]
) -> None:
    storage = config_for(kind, request, tmp_path)
    env = {}
    if kind == "s3":  # keys as secrets, as a deployment without an instance profile gives them
        storage |= {"access_key_id": "${secret:s3_key_id}", "secret_access_key": "${secret:s3_secret}"}
        env = {"HEADRACE_SECRET_S3_KEY_ID": KEY_ID, "HEADRACE_SECRET_S3_SECRET": SECRET_KEY}
    if kind == "azure":  # project files name credentials only as secrets, even Azurite's published key
        env = {"HEADRACE_SECRET_AZURITE_KEY": storage["account_key"]}
        storage["account_key"] = "${secret:azurite_key}"
    state = run_example(tmp_path, storage, env)
    assert datamarts(state) == local_datamarts
    stored = open_config(config_for(kind, request, tmp_path, prefix=storage["prefix"]), state)
    assert len(stored.folders("raw/shop/orders")) == 1  # the parts went through the bucket
    assert not (state / "storage").exists()


def test_storage_secrets_appear_in_no_output_or_file(moto_endpoint: str, tmp_path: Path) -> None:
    """A run that fails on its storage (bucket missing) prints the error; the keys are nowhere."""
    project = tmp_path / "shop"
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns(".headrace", "__pycache__", "__init__.py"))
    config = yaml.safe_load((project / "project.yaml").read_text())
    config["storage"] = {
        "type": "s3",
        "bucket": "missing-bucket",
        "region": "eu-west-1",
        "endpoint_url": moto_endpoint,
        "access_key_id": "${secret:s3_key_id}",
        "secret_access_key": "${secret:s3_secret}",
    }
    (project / "project.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    state = tmp_path / "state"
    env = {
        "HEADRACE_STATE_DIR": str(state),
        "HEADRACE_SECRET_S3_KEY_ID": KEY_ID,
        "HEADRACE_SECRET_S3_SECRET": SECRET_KEY,
    }
    result = headrace("run", "extractor:shop", "--project", str(project), env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "missing-bucket" in output and "does not exist" in output, output
    for secret in (KEY_ID, SECRET_KEY):
        assert secret not in output
        for path in [p for p in state.rglob("*") if p.is_file()]:
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.slow
def test_postgres_warehouse_loads_from_s3(
    pg_server: PgServer,
    moto_endpoint: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in pgproject.env(pg_server).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HEADRACE_STATE_DIR", str(tmp_path / "state"))
    warehouse = fresh_database(pg_server, request)
    project = pgproject.make(tmp_path / "p", pg_server, fresh_database(pg_server, request), warehouse)
    storage = config_for("s3", request, tmp_path)
    config = yaml.safe_load((project / "project.yaml").read_text())
    # no keys in the project: boto3's default chain finds the identity (here moto's, in the environment)
    config["storage"] = {k: v for k, v in storage.items() if k not in ("access_key_id", "secret_access_key")}
    (project / "project.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    run_ok("run", "--project", str(project), env=AWS_ENV)
    assert execute(pg_server, warehouse, "SELECT id, name, team FROM in_src.people ORDER BY id") == [
        (1, "Ann", "a"),
        (2, "Bob", "b"),
        (3, "Cid", "a"),
    ]
    assert execute(pg_server, warehouse, "SELECT team, members FROM dm_people.team_size ORDER BY team") == [
        ("a", 2),
        ("b", 1),
    ]
    stored = open_config(storage, tmp_path / "state")
    assert len(stored.folders("raw/src/people")) == 1
