"""Configs are typed after resolution: substitute references, then validate with the plugin's model.

A project may write ``port: ${env:PG_PORT}`` where a deployment-specific value goes
(``Deferred`` fields); the manifest keeps the reference. When a task runs, the reference
is resolved and the whole config validated by its plugin's model, so a bad value fails
here, naming the file, the key and the reference, never the value itself (it may be a
secret).
"""

from __future__ import annotations

from typing import Any

from headrace import plugins
from headrace.errors import ConfigError
from headrace.project.base import RESOLVED
from headrace.project.yamlfile import format_loc
from headrace.secrets import SecretResolver
from pydantic import BaseModel, ValidationError


def _at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        ):
            data = data[part]
        else:
            return None
    return data


def _resolve(value: Any, secrets: SecretResolver, loc: tuple[Any, ...], file: str) -> Any:
    """``secrets.resolve`` that names the file and key of a reference it cannot resolve."""
    if isinstance(value, dict):
        return {k: _resolve(v, secrets, (*loc, k), file) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, secrets, (*loc, i), file) for i, v in enumerate(value)]
    try:
        return secrets.resolve(value)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {format_loc(loc)}: {exc}" if loc else f"{file}: {exc}") from None


def resolved_config(kind: plugins.Kind, raw: dict[str, Any], secrets: SecretResolver, file: str, key: str) -> BaseModel:
    """``raw`` (a config from the manifest) with references resolved, as the plugin's model.

    ``file`` and ``key`` say where the config came from (``project.yaml``, ``warehouse``)
    for the messages of a ``ConfigError``.
    """
    plugin = plugins.get(kind, str(raw.get("type")))
    values = _resolve(raw, secrets, ((key,) if key else ()), file)
    try:
        return plugin.config.model_validate(values, context={RESOLVED: True})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            path = format_loc(((key,) if key else ()) + loc)
            written = _at(raw, loc)
            origin = (
                f"{written} resolved to a value that" if isinstance(written, str) and "${" in written else "the value"
            )
            reason = err["msg"][:1].lower() + err["msg"][1:]
            problems.append(f"{file}: {path}: {origin} is not valid: {reason}")
        raise ConfigError("; ".join(problems)) from None
