"""A dbt project's files: where it is, its Python models, its packages, and the copy a run builds.

Headrace never builds in the project's own folder: each parse or run works on a copy in a
folder of its own, with the source ``inputs`` declared for it (``_headrace_inputs.yml``) and the
packages ``dbt deps`` installed once per content (under the state folder) linked in.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import yaml
from headrace.errors import ConfigError

SOURCES_FILE = "_headrace_inputs.yml"
PACKAGE_FILES = ("packages.yml", "dependencies.yml", "package-lock.yml")
SKIP = ("target", "dbt_packages", "logs", ".user.yml", "profiles.yml", "__pycache__")


def settings(folder: Path) -> dict[str, Any]:
    """dbt_project.yml's mapping; a ``ConfigError`` naming the file otherwise."""
    path = folder / "dbt_project.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML ({exc})") from None
    if not isinstance(data, dict) or not data.get("name"):
        raise ConfigError(f"{path}: not a dbt project file (it needs at least `name:`)")
    return data


def model_paths(config: dict[str, Any]) -> list[str]:
    return list(config.get("model-paths") or ["models"])


def python_models(folder: Path, config: dict[str, Any]) -> list[str]:
    """Python files where dbt looks for models and snapshots (relative to ``folder``): dbt runs such
    models' Python in its own process, outside the warehouse's confinement, so they are refused."""
    found: list[str] = []
    for sub in model_paths(config) + list(config.get("snapshot-paths") or ["snapshots"]):
        base = folder / sub
        if base.is_dir():
            found += sorted(p.relative_to(folder).as_posix() for p in base.rglob("*.py"))
    return found


def packages_key(folder: Path) -> str | None:
    """A hash of what ``dbt deps`` installs from, None when the project has no packages."""
    present = [folder / name for name in PACKAGE_FILES if (folder / name).is_file()]
    if not present:
        return None
    digest = hashlib.sha256()
    for path in present:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def install_path(config: dict[str, Any]) -> str:
    return str(config.get("packages-install-path") or "dbt_packages")


def content_key(folder: Path, *extra: str) -> str:
    """A hash of every file of the dbt project (but what dbt writes) and ``extra``."""
    digest = hashlib.sha256("\0".join(extra).encode())
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not (set(rel.parts) & set(SKIP)):
            digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def copy_for_run(
    source: Path, dest: Path, config: dict[str, Any], inputs: list[str], schema: str, packages: Path | None
) -> None:
    """Copy the dbt project to ``dest``, declare the source ``inputs`` (``schema``: where the session's
    inputs are) and link the installed packages in."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(*SKIP), symlinks=False)
    models = dest / model_paths(config)[0]
    models.mkdir(parents=True, exist_ok=True)
    sources = {"version": 2, "sources": [{"name": "inputs", "schema": schema, "tables": [{"name": n} for n in inputs]}]}
    (models / SOURCES_FILE).write_text(yaml.safe_dump(sources, sort_keys=False), encoding="utf-8")
    if packages is not None:
        (dest / install_path(config)).symlink_to(packages, target_is_directory=True)
