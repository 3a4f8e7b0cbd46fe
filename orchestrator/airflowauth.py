"""Sign in to this machine's Airflow REST API from Airflow's own settings (the simple auth manager).

What ``project_update`` and the local supervisor use to keep pools: Airflow 3 task
processes have no metadata-database access, but they reach the API server (that is how
they report), and the simple auth manager's password file is on this machine. Everything
comes from the environment Airflow runs with (``headrace airflow up`` and the cloud VMs
set it); nothing is printed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from headrace.errors import ConfigError
from headrace.orchestrator.api import AirflowApi

EXECUTION_SUFFIX = "/execution/"
# roles of the simple auth manager that may change pools
POOL_ROLES = ("admin", "op")


def api_url(environ: Mapping[str, str] = os.environ) -> str:
    """The API server as tasks reach it: ``execution_api_server_url`` without ``/execution/``."""
    execution = environ.get("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "").strip()
    if execution.rstrip("/").endswith(EXECUTION_SUFFIX.rstrip("/")):
        return execution.rstrip("/")[: -len(EXECUTION_SUFFIX.rstrip("/"))]
    base = environ.get("AIRFLOW__API__BASE_URL", "").strip()
    if base:
        return base.rstrip("/")
    host = environ.get("AIRFLOW__API__HOST", "").strip()
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{host}:{environ.get('AIRFLOW__API__PORT', '8080')}"


def _login_user(environ: Mapping[str, str]) -> str:
    """The first user of ``simple_auth_manager_users`` whose role may change pools."""
    users = environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
    for entry in users.split(","):
        name, _, role = entry.strip().partition(":")
        if name and role.strip().lower() in POOL_ROLES:
            return name
    raise ConfigError(
        f"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS ({users!r}) names no user with the admin or op role: "
        "Headrace signs in as one to keep Airflow's pools (add e.g. admin:admin)"
    )


def _password_file(environ: Mapping[str, str]) -> Path:
    configured = environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    if configured:
        return Path(configured).expanduser()
    home = Path(environ.get("AIRFLOW_HOME") or Path.home() / "airflow").expanduser()
    return home / "simple_auth_manager_passwords.json.generated"  # Airflow's own default


def api_from_environment(environ: Mapping[str, str] = os.environ) -> AirflowApi:
    """A client of the API signed in as the simple auth manager's admin; a ``ConfigError`` says what is missing."""
    from headrace.redaction import remember

    user = _login_user(environ)
    path = _password_file(environ)
    try:
        passwords = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(
            f"cannot read Airflow's password file {path} (AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE): "
            "Headrace signs in with it to keep Airflow's pools; run this where Airflow runs, as its user"
        ) from None
    password = passwords.get(user) if isinstance(passwords, dict) else None
    if not password:
        raise ConfigError(f"Airflow's password file {path} has no password for {user!r}")
    remember(str(password))
    return AirflowApi(api_url(environ), user, str(password))
