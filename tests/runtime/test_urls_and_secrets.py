"""URL sources with secrets in headers and query strings; a secret never shows up anywhere."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.helpers import headrace, run_ok, write_files
from tests.httpserver import serve

pytestmark = pytest.mark.integration

SECRET = "s3cr3t-Value-42"
CSV = "id,city\n1,Praha\n2,Brno\n"


def _scan(paths: list[Path], texts: list[str]) -> list[str]:
    """Every file and output that contains the secret."""
    hits = [f"output #{i}" for i, text in enumerate(texts) if SECRET in text]
    for root in paths:
        for path in root.rglob("*"):
            if path.is_file() and SECRET.encode() in path.read_bytes():
                hits.append(str(path))
    return hits


def test_secret_in_header_is_used_and_never_written(tmp_path: Path, state_env: Path) -> None:
    def data(handler) -> tuple[int, bytes]:
        if handler.headers.get("Authorization") != f"Bearer {SECRET}":
            return 401, b"missing token"
        return 200, gzip.compress(CSV.encode())

    with serve({"/cities.csv.gz": data}) as base:
        project = write_files(
            tmp_path / "p",
            {
                "project.yaml": "name: s\n",
                "extractors/api.yaml": f"""
                    type: file
                    tables:
                      - name: cities
                        url: {base}/cities.csv.gz
                        headers: {{Authorization: "Bearer ${{secret:api_token}}"}}
                        columns: {{id: integer, city: string}}
                      - name: leaky
                        url: "{base}/missing.csv?token=${{secret:api_token}}"
                        columns: {{id: integer}}
                    """,
            },
        )
        result = headrace("run", "--project", str(project), env={"HEADRACE_SECRET_API_TOKEN": SECRET})
        history = headrace("history", "--project", str(project), env={"HEADRACE_SECRET_API_TOKEN": SECRET})
    out = result.stdout + result.stderr
    assert result.returncode == 1  # the second table's URL answers 404
    assert "in_api.cities: 2 rows loaded" in out
    assert "missing.csv?token=***: HTTP 404" in out
    assert _scan([project, state_env], [result.stdout, result.stderr, history.stdout, history.stderr]) == []


def test_missing_secret_names_the_variable_and_file(tmp_path: Path, state_env: Path) -> None:
    project = write_files(
        tmp_path / "p",
        {
            "project.yaml": "name: s\n",
            "extractors/api.yaml": """
                type: file
                tables:
                  - name: cities
                    url: "http://127.0.0.1:9/x.csv?key=${secret:api_token}"
                    columns: {id: integer}
                """,
        },
    )
    result = headrace("run", "--project", str(project))
    assert result.returncode == 2, "a missing secret is a configuration error: fix it, do not retry"
    assert "secret 'api_token' is not set: export HEADRACE_SECRET_API_TOKEN=... or add 'api_token: ...' to" in (
        result.stdout + result.stderr
    )


def test_secrets_file_is_read(tmp_path: Path, state_env: Path) -> None:
    with serve({"/c.csv": lambda h: (200 if SECRET in h.path else 403, CSV.encode())}) as base:
        project = write_files(
            tmp_path / "p",
            {
                "project.yaml": "name: s\n",
                ".secrets.yaml": f"api_token: {SECRET}\n",
                "extractors/api.yaml": f"""
                    type: file
                    tables:
                      - name: cities
                        url: "{base}/c.csv?key=${{secret:api_token}}"
                        columns: {{id: integer, city: string}}
                    """,
            },
        )
        result = run_ok("run", "--project", str(project))
    assert "2 rows loaded" in result.stdout
    assert SECRET not in result.stdout + result.stderr
    manifest = (project / ".headrace" / "manifest.json").read_text()
    assert "${secret:api_token}" in manifest and SECRET not in manifest
