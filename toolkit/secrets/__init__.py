"""``${secret:NAME}`` and ``${env:NAME}``: resolved only when a task runs, never written out.

Secrets come from the backend the project's ``secrets:`` block names (plugin kind
``secrets``, docs/secrets.md): ``env`` (the default: environment variables
``HEADRACE_SECRET_<NAME>``, then a git-ignored YAML file of ``name: value`` pairs,
``.secrets.yaml`` in the project or the file named by ``HEADRACE_SECRETS_FILE``), ``airflow``
(Variables and Connections), ``aws``, ``gcp`` or ``azure`` (the cloud's secret manager).
A backend is opened at the first ``${secret:...}`` a process resolves, each name is
fetched once per process, and every value resolved (and every value of the secrets file as
soon as it is read) is remembered by ``headrace.redaction`` so that it is blanked out of
anything printed or stored. A secrets file that cannot be read is reported with its file
and line only: its text is never shown.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from headrace.errors import ConfigError
from headrace.redaction import MIN_REDACT, redact, remember

if TYPE_CHECKING:
    from headrace.secrets.base import Cached

__all__ = ["MIN_REDACT", "SECRET_REF", "SecretResolver", "read_secrets_file", "redact"]

SECRET_REF = re.compile(r"\$\{(secret|env):([A-Za-z_][A-Za-z0-9_]*)\}")
ENV_PREFIX = "HEADRACE_SECRET_"
DEFAULT_BACKEND: dict[str, Any] = {"type": "env"}
_HINT = "(the file holds secrets, so its text is not shown)"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_secrets_file(path: Path) -> dict[str, str]:
    """The ``name: value`` pairs of a secrets file, each value remembered for redaction.

    Values are taken as written (``0123`` stays ``0123``); a value that is a mapping or a
    list, bytes that are not UTF-8, NUL bytes or broken YAML raise a ``ConfigError`` naming
    the file and line, never the text.
    """
    import yaml

    data = path.read_bytes()
    nul = data.find(b"\0")
    if nul >= 0:
        raise ConfigError(f"{path}: line {_line_of(data, nul)}: contains a NUL byte {_HINT}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        raise ConfigError(f"{path}: line {line}: not UTF-8 text: save the file as UTF-8 {_HINT}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ConfigError(f"{path}: {where}: not valid YAML: fix the syntax there {_HINT}") from None
    except yaml.YAMLError:
        raise ConfigError(f"{path}: not valid YAML: fix its syntax {_HINT}") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{path}: line {root.start_mark.line + 1}: expected name: value pairs, one a line {_HINT}")
    values: dict[str, str] = {}
    for key, value in root.value:
        line = value.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode):
            raise ConfigError(f"{path}: line {key.start_mark.line + 1}: a secret's name must be a plain word {_HINT}")
        if not isinstance(value, yaml.ScalarNode):
            what = f"the value of {key.value!r} must be one string, not a list or a mapping"
            raise ConfigError(f"{path}: line {line}: {what} {_HINT}")
        values[str(key.value)] = str(value.value)
    for value in values.values():
        remember(value)
    return values


class SecretResolver:
    """Resolves references for one project through its secrets backend (``config``: the raw
    ``secrets:`` block of the manifest; None: ``{type: env}``).

    Constructing one opens nothing: the backend is opened, and each secret fetched, at the
    first reference that needs it (``headrace.secrets.backends``, cached per process).
    """

    def __init__(self, project_dir: Path, config: dict[str, Any] | None = None, environ: dict[str, str] | None = None):
        self.project_dir = project_dir
        self.environ = dict(os.environ if environ is None else environ)
        self.config = dict(config or DEFAULT_BACKEND)
        self._backend: Cached | None = None
        from headrace.secrets.backends import register

        register(self.config, project_dir, self.environ)
        if self.type == "env":
            for name, value in self.environ.items():  # every secret this process could resolve
                if name.startswith(ENV_PREFIX):
                    remember(value)

    @property
    def type(self) -> str:
        return str(self.config.get("type", "env"))

    @property
    def remote(self) -> bool:
        """Whether a look-up is a network call (read from the plugin record, nothing imported)."""
        from headrace import plugins

        return bool(getattr(plugins.get("secrets", self.type).capabilities, "remote", False))

    def backend(self) -> Cached:
        if self._backend is None:
            from headrace.secrets.backends import open_backend

            self._backend = open_backend(self.config, self.project_dir, self.environ)
        return self._backend

    def secret(self, name: str) -> str:
        value, fetched = self.backend().fetch(name)
        remember(value)
        if fetched and self.remote:
            from headrace.secrets import maskline

            maskline.report(value)  # the parent redacts it too, without fetching it again
        return value

    def env(self, name: str) -> str:
        if name not in self.environ:
            raise ConfigError(f"environment variable {name} is not set (referenced as ${{env:{name}}})")
        value = self.environ[name]
        remember(value)
        return value

    def resolve(self, value: Any) -> Any:
        """Resolve references inside strings, recursively through dicts and lists."""
        if isinstance(value, str):
            return SECRET_REF.sub(
                lambda m: self.secret(m.group(2)) if m.group(1) == "secret" else self.env(m.group(2)), value
            )
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def remember_referenced(self, text: str) -> None:
        """Remember the value of every reference in ``text`` that resolves here (for redaction only).

        What a parent process (``headrace run``, the Airflow operator) calls with its
        manifest, so that it blanks out what its task process resolves, even where the task
        failed to. With a remote backend (a cloud secret manager) it looks no secret up: the
        task process reports each value it fetched through the mask channel
        (``headrace.secrets.maskline``), so every secret is fetched once per task, not twice.
        """
        remote = self.remote
        for kind, name in set(SECRET_REF.findall(text)):
            if kind == "secret" and remote:
                continue
            try:
                self.secret(name) if kind == "secret" else self.env(name)
            except ConfigError:
                continue
