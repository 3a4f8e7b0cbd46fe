"""Tasks inside the warehouse never start the worker VM; a VM worker needs network storage and a server warehouse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.emulators.moto import AWS_ENV
from tests.helpers import headrace, run_ok, write_files
from tests.workers import vm_support as vm

pytestmark = [pytest.mark.workers]


def _worker(instance: str = "i-0123456789abcdef0", endpoint: str = "http://127.0.0.1:1") -> str:
    worker = {"type": "aws_vm", "instance_id": instance, "region": vm.REGION, "endpoint_url": endpoint}
    return f"worker: {json.dumps(worker)}\n"


def test_a_vm_worker_with_local_storage_or_duckdb_is_a_validation_error(tmp_path: Path) -> None:
    project = write_files(tmp_path / "p", {"project.yaml": "name: vm\n" + _worker()})
    done = headrace("validate", str(project))
    assert done.returncode == 2
    assert (
        "project.yaml:2: worker: aws_vm runs tasks on another machine, which cannot reach "
        "storage: local (a folder on this machine) or warehouse: duckdb (a file on this machine) "
        "(use network storage (s3, gcs, azure) and a server warehouse, or run tasks on this machine "
        "(worker: type: local, or docker with this machine's engine))"
    ) in done.stdout + done.stderr
    write_files(project, {"project.yaml": "name: vm\nstorage: {type: s3, bucket: raw}\n" + _worker()})
    done = headrace("validate", str(project))
    assert done.returncode == 2
    assert "which cannot reach warehouse: duckdb (a file on this machine)" in done.stdout + done.stderr
    fine = "name: vm\nstorage: {type: s3, bucket: raw}\nwarehouse: {type: postgres, host: db, database: d, user: u}\n"
    write_files(project, {"project.yaml": fine + _worker()})
    run_ok("validate", str(project))


@pytest.mark.integration
def test_transformations_and_datamarts_run_here_and_never_start_the_vm(
    tmp_path: Path,
    state_env: Path,
    pg_server: Any,
    pg_database: str,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    instance = vm.stopped_instance(moto_endpoint)
    warehouse = json.dumps({"type": "postgres", **pg_server.config(pg_database)})
    project = write_files(
        tmp_path / "p",
        {
            "project.yaml": f"name: vm\nwarehouse: {warehouse}\nstorage: {{type: s3, bucket: raw, "
            f"endpoint_url: '{moto_endpoint}'}}\n" + _worker(instance, moto_endpoint),
            "transformations/calc/transformation.yaml": "type: sql\noutputs: [one]\n",
            "transformations/calc/10_one.sql": "CREATE TABLE one AS SELECT 1 AS x;\n",
            "datamarts.yaml": "datamarts:\n  - id: calc\n    tables: [out_calc.one]\n",
        },
    )
    run_ok("compile", str(project))
    manifest = json.loads((project / ".headrace" / "manifest.json").read_text())
    assert {t: task["runs_on"] for t, task in manifest["tasks"].items()} == {
        "transformation:calc": "local",
        "datamart:calc": "local",
    }
    run_ok("run", "--project", str(project))
    with pg_server.connect(pg_database) as con:
        assert con.execute("SELECT x FROM dm_calc.one").fetchall() == [(1,)]
    assert vm.state(moto_endpoint, instance) == "stopped"
    assert not (state_env / "workers").exists()  # no task ever took a lease on the VM
