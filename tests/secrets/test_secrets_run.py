"""A project whose secrets live in a cloud secret manager, run end to end; nothing fetched before a task runs.

``headrace run`` of a small project with ``secrets: {type: aws}`` against a real moto
server (through the recording proxy): the extractor's API token comes from Secrets
Manager, is fetched once, by the task process only, and never shows up in clear in any
output, file, manifest or warehouse table, also when a task fails with the token in its
URL. Validation, compilation and DAG parsing with a cloud backend configured send no
request at all (counted on the recording server).
"""

from __future__ import annotations

from pathlib import Path

import boto3
import duckdb
import pytest

from tests.helpers import headrace, run_ok, write_files
from tests.httpserver import serve
from tests.secrets.conftest import sm_calls
from tests.secrets.recorder import Recorder
from tests.security import leakscan

pytestmark = pytest.mark.integration
TOKEN = "Sm-Api-T0ken-8c1f02"


def test_headrace_run_takes_the_extractor_token_from_secrets_manager(
    tmp_path: Path, state_env: Path, sm_proxy: Recorder, moto_endpoint: str, aws_env: dict[str, str]
) -> None:
    boto3.client("secretsmanager", region_name="eu-west-1", endpoint_url=moto_endpoint).create_secret(
        Name="run/api_token", SecretString=TOKEN
    )

    def cities(handler):  # type: ignore[no-untyped-def]
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, b"unauthorized"
        return 200, b"id,name\n1,Oslo\n2,Lima\n"

    with serve({"/cities.csv": cities, "/broken.csv": lambda h: (500, b"server error")}) as base:
        project = write_files(
            tmp_path / "p",
            {
                "project.yaml": """
                    name: sm
                    secrets: {type: aws, region: eu-west-1, prefix: run/, endpoint_url: "${env:SM_ENDPOINT}"}
                    """,
                "extractors/api.yaml": f"""
                    type: file
                    tables:
                      - name: cities
                        url: "{base}/cities.csv"
                        headers: {{Authorization: "Bearer ${{secret:api_token}}"}}
                        columns: {{id: integer, name: string}}
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
        env = {"SM_ENDPOINT": sm_proxy.url}
        sm_proxy.clear()
        validate = run_ok("validate", str(project), env=env)
        compiled = run_ok("compile", str(project), env=env)
        assert sm_calls(sm_proxy, "GetSecretValue") == [], "validate and compile must fetch no secret"
        ok = run_ok("run", "extractor:api", "--project", str(project), env=env)
        assert len(sm_calls(sm_proxy, "GetSecretValue")) == 1, "one fetch, in the task process"
        failed = headrace("run", "extractor:leaky", "--project", str(project), env=env)
        assert failed.returncode != 0
        assert "token=***" in failed.stdout + failed.stderr, failed.stdout + failed.stderr
        history = run_ok("history", "--project", str(project), env=env)
    con = duckdb.connect(str(state_env / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT id, name FROM in_api.cities ORDER BY id").fetchall() == [(1, "Oslo"), (2, "Lima")]
    finally:
        con.close()
    secrets = {"API token (Secrets Manager)": TOKEN}
    texts = {}
    for name, result in {
        "validate": validate,
        "compile": compiled,
        "run": ok,
        "failed run": failed,
        "history": history,
    }.items():
        texts[f"stdout of {name}"], texts[f"stderr of {name}"] = result.stdout, result.stderr
    assert not any("HEADRACE_MASK" in text for text in texts.values()), "mask lines are for the parent only"
    hits = leakscan.in_outputs(texts, secrets)
    hits += leakscan.in_files([project, state_env], secrets, skip=[state_env / "warehouse.duckdb"])
    hits += leakscan.in_duckdb(state_env / "warehouse.duckdb", secrets)
    assert hits == []
    assert "secretsmanager" not in (project / ".headrace" / "manifest.json").read_text().lower()


def test_dag_parsing_with_a_cloud_backend_sends_no_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recording server stands for GCP (token endpoint and Secret Manager): it must see nothing."""
    from tests.orchestrator.test_dags import load_dagbag
    from tests.secrets.test_gcp_secrets import FakeSecretManager, service_account_key

    recorder = Recorder(FakeSecretManager())
    try:
        key = service_account_key(tmp_path / "sa.json", f"{recorder.url}/token")
        project = write_files(
            tmp_path / "p",
            {
                "project.yaml": f"""
                    name: gsm
                    secrets: {{type: gcp, project: hr-test, api_endpoint: "{recorder.url}"}}
                    """,
                "extractors/api.yaml": """
                    type: file
                    tables:
                      - name: cities
                        url: "http://127.0.0.1:9/c.csv?key=${secret:api_token}"
                        columns: {id: integer}
                    """,
            },
        )
        env = {"GOOGLE_APPLICATION_CREDENTIALS": str(key)}
        run_ok("validate", str(project), env=env)
        run_ok("compile", str(project), env=env)
        described = load_dagbag(tmp_path, project / ".headrace" / "manifest.json", env)
        assert "extractor_api" in described["dags"], sorted(described["dags"])
        assert recorder.requests == []
    finally:
        recorder.close()
