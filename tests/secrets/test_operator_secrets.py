"""The Airflow operator with a cloud secret manager: it fetches nothing and still masks what its task fetched.

The operator runs in this process (``execute`` called directly, as in
tests/security/test_operator_stop.py), without an Airflow server, down to the real
``headrace run-task`` process; Secrets Manager is a real moto server behind the recording
proxy. Airflow's secrets masker is stood in for by a recorder of what the operator hands it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from tests.helpers import run_ok, write_files
from tests.httpserver import serve
from tests.secrets.conftest import sm_calls
from tests.secrets.recorder import Recorder

pytestmark = [pytest.mark.integration, pytest.mark.airflow]
pytest.importorskip("airflow.sdk")
TOKEN = "Op-Api-T0ken-44e1a9"


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args)

    warning = info


def test_the_operator_masks_what_its_task_fetched_without_fetching_it(
    tmp_path: Path,
    state_env: Path,
    sm_proxy: Recorder,
    moto_endpoint: str,
    aws_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from headrace.orchestrator import operators

    boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=moto_endpoint).create_secret(
        Name="op/api_token", SecretString=TOKEN
    )
    masked: list[str] = []
    monkeypatch.setattr(operators, "_airflow_masker", masked.append)
    monkeypatch.delenv("HEADRACE_HOME", raising=False)
    monkeypatch.delenv("HEADRACE_MANIFEST", raising=False)
    monkeypatch.setenv("SM_ENDPOINT", sm_proxy.url)
    with serve({"/broken.csv": lambda h: (500, b"server error")}) as base:
        project = write_files(
            tmp_path / "p",
            {
                "project.yaml": """
                    name: op
                    secrets: {type: aws, region: eu-west-1, prefix: op/, endpoint_url: "${env:SM_ENDPOINT}"}
                    """,
                "extractors/leaky.yaml": f"""
                    type: file
                    tables:
                      - name: broken
                        url: "{base}/broken.csv?token=${{secret:api_token}}"
                        columns: {{id: integer}}
                    """,
            },
        )
        run_ok("compile", str(project))
        sm_proxy.clear()

        class Operator(operators.HeadraceTaskOperator):
            log = _Log()

        op = Operator(
            task_id="leaky",
            headrace_task="extractor:leaky",
            project_dir=str(project),
            worker_type="local",
            worker_timeout_s=120,
        )
        dag_run = SimpleNamespace(dag_id="extractor_leaky", run_id="manual__1", run_after=datetime.now(UTC))
        with pytest.raises(Exception) as caught:
            op.execute({"dag_run": dag_run, "ti": SimpleNamespace(try_number=1), "params": {}})
    assert len(sm_calls(sm_proxy, "GetSecretValue")) == 1, "one fetch, by the task process; none by the operator"
    assert TOKEN in masked, "the value the task fetched reaches Airflow's masker"
    logged = "\n".join(Operator.log.lines) + "\n" + str(caught.value)
    assert "token=***" in logged, logged
    assert TOKEN not in logged and "HEADRACE_MASK" not in logged
