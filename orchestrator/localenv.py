"""The environment of a local Airflow: folders, generated secrets and the variables it runs with.

Layout under the deployment home (``$HEADRACE_HOME``)::

    airflow/                  AIRFLOW_HOME: airflow.db (SQLite), task logs (logs/)
    airflow/headrace-airflow.log  start, stop and exits of the components
    airflow/component-logs/   one log per component (scheduler.log, api-server.log, ...)
    airflow/admin-password.json   {"admin": "<password>"}, mode 0600, made once
    airflow/keys.json         JWT secret, API secret key and Fernet key, mode 0600, made once
    airflow/launch.json       pid, port and URL of the running standalone process
    dags/                     Airflow's dags folder: headrace_dags.py (+ project_dags link)
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from headrace.orchestrator.deployments import read_json, write_json
from headrace.orchestrator.settings import Home, Source

ADMIN = "admin"


@dataclass(frozen=True)
class LocalAirflow:
    home: Home
    source: Source
    port: int = 8080
    parallelism: int = 4
    db_url: str | None = None
    state_dir: Path | None = None
    secrets_file: Path | None = None

    @property
    def airflow_home(self) -> Path:
        return self.home.root / "airflow"

    @property
    def dags_folder(self) -> Path:
        return self.home.root / "dags"

    @property
    def password_file(self) -> Path:
        return self.airflow_home / "admin-password.json"

    @property
    def keys_file(self) -> Path:
        return self.airflow_home / "keys.json"

    @property
    def launch_file(self) -> Path:
        return self.airflow_home / "launch.json"

    @property
    def log_file(self) -> Path:
        return self.airflow_home / "headrace-airflow.log"

    @property
    def component_logs(self) -> Path:
        return self.airflow_home / "component-logs"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _private_json(path: Path, data: dict[str, str]) -> None:
    """Write a 0600 file: the mode is set before any secret is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def ensure_password(config: LocalAirflow) -> tuple[str, bool]:
    """The admin password and whether it was generated just now (then it is shown, once)."""
    existing = read_json(config.password_file)
    if existing and existing.get(ADMIN):
        return existing[ADMIN], False
    password = secrets.token_urlsafe(18)
    _private_json(config.password_file, {ADMIN: password})
    return password, True


def read_password(config: LocalAirflow) -> str | None:
    data = read_json(config.password_file)
    return data.get(ADMIN) if data else None


def ensure_keys(config: LocalAirflow) -> dict[str, str]:
    """Secrets every Airflow component must share (a per-process random JWT secret breaks tasks)."""
    keys = read_json(config.keys_file)
    if keys:
        return keys
    keys = {
        "jwt_secret": secrets.token_hex(32),
        "secret_key": secrets.token_hex(32),
        "fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }
    _private_json(config.keys_file, keys)
    return keys


def airflow_env(config: LocalAirflow, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of the local Airflow. Tuning already in ``base`` (e.g. the metadata DB) wins."""
    env = dict(os.environ if base is None else base)
    env.pop("HEADRACE_MANIFEST", None)  # the DAGs follow the deployment home
    keys = ensure_keys(config)
    bin_dir = str(Path(sys.executable).parent)  # Airflow may start `airflow ...` from PATH
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env.update(
        {
            "AIRFLOW_HOME": str(config.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(config.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(config.password_file),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(config.port),
            "AIRFLOW__API__BASE_URL": config.url + "/",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": config.url + "/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
            "AIRFLOW__API__SECRET_KEY": keys["secret_key"],
            "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
            "AIRFLOW__CORE__PARALLELISM": str(config.parallelism),
            "HEADRACE_HOME": str(config.home.root),
        }
    )
    env.setdefault("AIRFLOW__API__WORKERS", "2")
    env.setdefault("AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL", "60")
    if config.db_url:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = config.db_url
        async_url = async_db_url(config.db_url)
        if async_url:
            env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC", async_url)
    if config.state_dir:
        env["HEADRACE_STATE_DIR"] = str(config.state_dir)
    if config.secrets_file:
        env.setdefault("HEADRACE_SECRETS_FILE", str(config.secrets_file))
    for key in ("HEADRACE_PROJECT_REPO", "HEADRACE_PROJECT_SOURCE"):
        env.pop(key, None)
    if config.source.repo:
        env["HEADRACE_PROJECT_REPO"] = config.source.repo
        env["HEADRACE_PROJECT_BRANCH"] = config.source.branch
    elif config.source.folder:
        env["HEADRACE_PROJECT_SOURCE"] = str(config.source.folder)
    return env


def async_db_url(url: str) -> str | None:
    """Airflow also needs an async driver. It derives ``asyncpg`` from a PostgreSQL URL, which
    the ``postgres`` extra does not install; with psycopg 3 (``postgresql+psycopg://``) its own
    async mode serves, so no second driver is needed."""
    prefix = "postgresql+psycopg://"
    return "postgresql+psycopg_async://" + url[len(prefix) :] if url.startswith(prefix) else None


def save_launch(config: LocalAirflow, pid: int) -> None:
    write_json(config.launch_file, {"pid": pid, "port": config.port, "url": config.url})


def read_launch(config: LocalAirflow) -> dict | None:
    return read_json(config.launch_file)
