"""Opening the project's secrets backend: once per process, at the first secret it resolves.

The ``secrets:`` block may use ``${env:NAME}`` for deployment values (a GCP project, a
vault URL), never ``${secret:...}`` (the backend would need itself to start). The opened
backend is kept for the process (``Cached``: each name fetched once), and is what
``headrace.secretstore.open_secret_store`` follows for the credentials Headrace creates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headrace.errors import ConfigError
from headrace.paths import PROJECT_FILE
from headrace.secrets.base import Cached

_opened: dict[str, Cached] = {}
# (secrets: block, project folder, environment) of this process's project: the latest resolver made
_project: list[tuple[dict[str, Any], Path, dict[str, str]]] = []


def _env_only(value: Any, environ: dict[str, str], key: str) -> Any:
    from headrace.secrets import SECRET_REF

    if isinstance(value, str):

        def one(match: Any) -> str:
            kind, name = match.group(1), match.group(2)
            if kind == "secret":
                raise ConfigError(
                    f"{PROJECT_FILE}: secrets.{key}: ${{secret:{name}}} cannot configure the secrets backend "
                    "itself: write the value, or ${env:NAME} for a deployment value"
                )
            if name not in environ:
                raise ConfigError(f"{PROJECT_FILE}: secrets.{key}: environment variable {name} is not set")
            return environ[name]

        return SECRET_REF.sub(one, value)
    return value


def backend_config(config: dict[str, Any], environ: dict[str, str]) -> Any:
    """The ``secrets:`` block with ``${env:...}`` resolved, validated by its plugin's model."""
    from headrace import plugins
    from headrace.project.base import RESOLVED
    from pydantic import ValidationError

    plugin = plugins.get("secrets", str(config.get("type", "env")))
    values = {k: _env_only(v, environ, k) for k, v in config.items()}
    try:
        return plugin.config.model_validate(values, context={RESOLVED: True})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{PROJECT_FILE}: secrets.{where}: {first['msg']}") from None


def open_backend(config: dict[str, Any], project_dir: Path, environ: dict[str, str]) -> Cached:
    """The backend for ``config``, opened once per process (its SDK is imported here, not before)."""
    from headrace import plugins

    model = backend_config(config, environ)
    key = json.dumps([model.model_dump(mode="json"), str(project_dir)], sort_keys=True)
    if key not in _opened:
        factory = plugins.get("secrets", model.type).load()  # type: ignore[attr-defined]
        _opened[key] = Cached(factory(model, project_dir, environ))
    return _opened[key]


def register(config: dict[str, Any], project_dir: Path, environ: dict[str, str]) -> None:
    """Say which backend this process's project uses (nothing is opened)."""
    _project[:] = [(config, project_dir, environ)]


def project_backend(writing: bool = False) -> Cached | None:
    """This process's project backend (opened now if not yet), or None when no project said;
    ``writing``: None also when the backend keeps no credentials (its capabilities say so)."""
    from headrace import plugins

    if not _project:
        return None
    config = _project[0][0]
    if writing and not plugins.get("secrets", str(config.get("type", "env"))).capabilities.writes:
        return None
    return open_backend(*_project[0])
