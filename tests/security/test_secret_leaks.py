"""Known, distinctive secret values never show up in any output, file, storage object or warehouse table.

The example project (examples/crm_postgres: a PostgreSQL source, an incremental load, a
transformation, a datamart with a reader login) runs on DuckDB and on PostgreSQL with its
warehouse password in a secrets file, its source password in ``${env:...}``; then tasks
fail with the secrets in their URL or connection; then a broken secrets file; then a
rejected project update from a repository URL carrying a token. After each, every output,
every file of the project, state and deployment folders, every storage object and every
text of every warehouse table is scanned (tests/security/leakscan.py). The Airflow run is
scanned in tests/orchestrator/test_airflow_e2e.py, on the Airflow those tests already start.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
import yaml

from tests.helpers import REPO, headrace, run_ok, write_files
from tests.httpserver import serve
from tests.orchestrator.support import HEADRACE, make_remote
from tests.pgserver import PgServer, fresh_database
from tests.postgres.source import execute
from tests.security import leakscan

pytestmark = pytest.mark.integration
EXAMPLE = REPO / "examples" / "crm_postgres"

WAREHOUSE_PASSWORD = "Wh/Pa55+leak%40@xq"  # URL-special characters: its encoded forms must not leak either
SOURCE_PASSWORD = "SrcEnv-s3cret:7#qz"
FILE_TOKEN = "FileT0ken-d4f8e1c2"
WRONG_PASSWORD = "Wr0ng-Src-Passw0rd"
ENV_TOKEN = "EnvT0ken-in-a-URL-63"
REPO_TOKEN = "ghp_Rep0T0kenLeak9xw"
SECRETS = {
    "warehouse password (secrets file)": WAREHOUSE_PASSWORD,
    "source password (${env:...})": SOURCE_PASSWORD,
    "API token (secrets file)": FILE_TOKEN,
    "wrong source password (${env:...})": WRONG_PASSWORD,
    "URL token (${env:...})": ENV_TOKEN,
}


def outputs(results: dict[str, subprocess.CompletedProcess[str]]) -> dict[str, str]:
    texts = {}
    for name, result in results.items():
        texts[f"stdout of {name}"] = result.stdout
        texts[f"stderr of {name}"] = result.stderr
    return texts


def _login(server: PgServer, request: pytest.FixtureRequest, role: str, password: str, extra: str = "") -> None:
    """A login with a known password, dropped after the databases (finalizers run last-in first-out)."""
    request.addfinalizer(lambda: execute(server, "postgres", f"DROP ROLE IF EXISTS {role}"))
    quoted = password.replace("'", "''")
    execute(server, "postgres", f"DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN {extra} PASSWORD '{quoted}'")


@pytest.mark.parametrize("warehouse", ["duckdb", "postgres"])
def test_example_run_and_failing_tasks_leak_no_secret(
    tmp_path: Path, pg_server: PgServer, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, warehouse: str
) -> None:
    request.addfinalizer(lambda: execute(pg_server, "postgres", "DROP ROLE IF EXISTS leak_bi"))
    _login(pg_server, request, "leak_src", SOURCE_PASSWORD)
    _login(pg_server, request, "leak_wh", WAREHOUSE_PASSWORD, "CREATEROLE")
    crm = fresh_database(pg_server, request)
    execute(pg_server, crm, (EXAMPLE / "seed.sql").read_text())
    execute(pg_server, crm, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO leak_src")

    project, state, private = tmp_path / "crm", tmp_path / "state", tmp_path / "private"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".headrace"))
    source = (project / "extractors/crm.yaml").read_text()
    source = source.replace("database: crm", f"database: {crm}")
    source = source.replace("${secret:crm_password}", "${env:LEAK_SOURCE_PASSWORD}")
    (project / "extractors/crm.yaml").write_text(source)
    marts = project / "datamarts.yaml"
    marts.write_text(marts.read_text().replace("crm_bi", "leak_bi"))
    secrets_file = write_files(private, {"secrets.yaml": f"api_token: {FILE_TOKEN}\n"}) / "secrets.yaml"
    secrets_file.write_text(f"api_token: {FILE_TOKEN}\nwarehouse_password: '{WAREHOUSE_PASSWORD}'\n")
    for key in ("HEADRACE_SECRET_WAREHOUSE_PASSWORD", "HEADRACE_SECRET_CRM_PASSWORD", "HEADRACE_SECRET_API_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in {
        "CRM_HOST": "127.0.0.1",
        "CRM_PORT": str(pg_server.port),
        "CRM_USER": "leak_src",
        "LEAK_SOURCE_PASSWORD": SOURCE_PASSWORD,
        "LEAK_WRONG_PASSWORD": WRONG_PASSWORD,
        "LEAK_ENV_TOKEN": ENV_TOKEN,
        "HEADRACE_STATE_DIR": str(state),
        "HEADRACE_SECRETS_FILE": str(secrets_file),
    }.items():
        monkeypatch.setenv(key, value)
    wh_db = ""
    if warehouse == "postgres":
        wh_db = fresh_database(pg_server, request)
        execute(pg_server, "postgres", f'ALTER DATABASE "{wh_db}" OWNER TO leak_wh')
        config = yaml.safe_load((project / "project.yaml").read_text())
        config["warehouse"] = {
            "type": "postgres",
            **pg_server.config(wh_db, user="leak_wh"),
            "password": "${secret:warehouse_password}",
        }
        (project / "project.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    results = {"first run": run_ok("run", "--project", str(project))}
    execute(pg_server, crm, (EXAMPLE / "changes.sql").read_text())
    results["incremental run"] = run_ok("run", "--project", str(project))
    results["query"] = run_ok("query", "SELECT * FROM in_crm.orders", "--project", str(project), "--format", "csv")
    if warehouse == "postgres":
        shown = run_ok("datamart", "credentials", "sales", "--project", str(project))
        assert "leak_bi" in shown.stdout and "password: " in shown.stdout
        results["datamart credentials"] = shown

    with serve({}) as base:  # every path answers 404
        write_files(
            project,
            {
                "extractors/api.yaml": f"""
                    type: file
                    tables:
                      - name: cities
                        url: "{base}/missing.csv?token=${{secret:api_token}}"
                        columns: {{id: integer}}
                      - name: towns
                        url: "{base}/gone.csv?key=${{env:LEAK_ENV_TOKEN}}"
                        columns: {{id: integer}}
                    """,
                "extractors/bad_crm.yaml": source.replace(
                    "${env:LEAK_SOURCE_PASSWORD}", "${env:LEAK_WRONG_PASSWORD}"
                ).split("tables:")[0]
                + "tables:\n  - name: products\n    source: public.products\n",
            },
        )
        results["failing URL task"] = headrace("run", "extractor:api", "--project", str(project))
    assert results["failing URL task"].returncode == 1
    assert "missing.csv?token=***: HTTP 404" in results["failing URL task"].stdout
    assert "gone.csv?key=***: HTTP 404" in results["failing URL task"].stdout
    results["wrong source password"] = headrace("run", "extractor:bad_crm", "--project", str(project))
    assert results["wrong source password"].returncode == 2
    assert "password authentication failed" in results["wrong source password"].stdout
    results["history"] = run_ok("history", "--project", str(project), "--limit", "50")
    assert "HTTP 404" in results["history"].stdout, "the failures are in the run history the scan reads"

    hits = leakscan.in_outputs(outputs(results), SECRETS)
    hits += leakscan.in_files([project, state], SECRETS)
    if warehouse == "postgres":
        hits += leakscan.in_postgres(pg_server, wh_db, SECRETS)
        stored = yaml.safe_load((state / "credentials.yaml").read_text())
        assert list(stored) == [f"postgres-reader/127.0.0.1:{pg_server.port}/leak_bi"]
        assert oct((state / "credentials.yaml").stat().st_mode & 0o777) == "0o600"
    else:
        hits += leakscan.in_duckdb(state / "warehouse.duckdb", SECRETS)
    assert hits == []


BROKEN_SECRETS = {
    # name: (file content, line the message names)
    "bad YAML": (f"api_token: {FILE_TOKEN}\nother: {WAREHOUSE_PASSWORD}: x\n", 2),
    "not a mapping": (f"- {FILE_TOKEN}\n- {WAREHOUSE_PASSWORD}\n", 1),
    "nested value": (f"api_token: {FILE_TOKEN}\nwarehouse:\n  password: {WAREHOUSE_PASSWORD}\n", 3),
    "list value": (f"api_token: [{FILE_TOKEN}, {WAREHOUSE_PASSWORD}]\n", 1),
    "NUL byte": (f"api_token: {FILE_TOKEN}\nwarehouse_password: {WAREHOUSE_PASSWORD}\0\n", 2),
    "alias bomb": (
        f"api_token: {FILE_TOKEN}\na: &a [{WAREHOUSE_PASSWORD}, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        2,
    ),
    "invalid UTF-8": (f"api_token: {FILE_TOKEN}\n".encode() + b"pw: \xff\xfe" + WAREHOUSE_PASSWORD.encode(), 2),
}


@pytest.mark.parametrize("case", list(BROKEN_SECRETS))
def test_broken_secrets_file_is_reported_by_file_and_line_never_its_text(
    tmp_path: Path, state_env: Path, case: str
) -> None:
    content, line = BROKEN_SECRETS[case]
    project = write_files(
        tmp_path / "p",
        {
            "project.yaml": "name: s\n",
            ".secrets.yaml": content,
            "extractors/api.yaml": """
                type: file
                tables:
                  - name: cities
                    url: "http://127.0.0.1:9/c.csv?key=${secret:api_token}"
                    columns: {id: integer}
                """,
        },
    )
    result = headrace("run", "--project", str(project))
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert f"{project / '.secrets.yaml'}: line {line}" in out
    assert "its text is not shown" in out
    assert "Traceback" not in out
    history = headrace("history", "--project", str(project))
    texts = outputs({"run": result, "history": history})
    assert leakscan.in_outputs(texts, SECRETS) + leakscan.in_files([state_env], SECRETS) == []


@contextmanager
def dumb_git_server(root: Path, user: str, token: str) -> Iterator[str]:
    """Serve the bare repositories under ``root`` over git's dumb HTTP protocol, behind basic auth."""
    expected = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path = (root / self.path.split("?")[0].lstrip("/")).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_rejected_update_from_a_repository_url_with_a_token_never_shows_the_token(tmp_path: Path) -> None:
    (tmp_path / "git").mkdir()
    remote = make_remote(tmp_path / "git")
    subprocess.run(["git", "update-server-info"], cwd=remote.bare, check=True)
    home = tmp_path / "home"
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    with dumb_git_server(remote.bare.parent.resolve(), "headrace", REPO_TOKEN) as base:
        url = f"http://headrace:{REPO_TOKEN}@{base.removeprefix('http://')}/remote.git"
        env = {
            **os.environ,
            "HEADRACE_HOME": str(home),
            "HEADRACE_PROJECT_REPO": url,
            "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
        }

        def update(name: str, **changes: str) -> subprocess.CompletedProcess[str]:
            command = [*HEADRACE, "airflow", "update-project"]
            results[name] = subprocess.run(command, env={**env, **changes}, capture_output=True, text=True)
            return results[name]

        assert update("first update").returncode == 0, results["first update"].stderr
        remote.push("broken", lambda w: (w / "extractors" / "broken.yaml").write_text("type: file\ntables: 3\n"))
        subprocess.run(["git", "update-server-info"], cwd=remote.bare, check=True)
        rejected = update("rejected update")
        assert rejected.returncode == 2
        assert f"REJECTED: the newest version of {base}/remote.git (branch main)" in rejected.stdout
        missing = update("fetch of a missing repository", HEADRACE_PROJECT_REPO=url.replace("remote.git", "nope.git"))
        assert missing.returncode == 2
        assert f"fetching branch 'main' of {base}/nope.git" in missing.stderr
        wrong_url = url.replace(REPO_TOKEN, "ghp_not-the-token-77")
        wrong = update("fetch with a wrong token", HEADRACE_PROJECT_REPO=wrong_url)
        assert wrong.returncode == 2
        results["status"] = subprocess.run(
            [*HEADRACE, "airflow", "status", "--home", str(home)], env=env, capture_output=True, text=True
        )
    assert f"from {base}/remote.git (branch main)" in results["status"].stdout
    secrets = {"repository token": REPO_TOKEN, "wrong repository token": "ghp_not-the-token-77"}
    hits = leakscan.in_outputs(outputs(results), secrets)
    hits += leakscan.in_files([home], secrets, skip=[home / "repo" / ".git" / "FETCH_HEAD"])
    assert hits == []
