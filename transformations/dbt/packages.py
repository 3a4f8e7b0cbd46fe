"""``dbt deps``: a project's packages, installed once per content into the state folder
(``<state>/dbt/packages/<hash of packages.yml ...>``) when the project is compiled; a run links
them in, and installs them only when they are not there (a state folder that was wiped)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from headrace.errors import ConfigError
from headrace.transformations.dbt import project
from headrace.transformations.dbt.invoke import invoke


def ensure(
    python: Path, source: Path, config: dict[str, Any], state: Path, where: str, log: Callable[[str], None]
) -> Path | None:
    """The folder of the project's installed packages, None when it has none."""
    key = project.packages_key(source)
    if key is None:
        return None
    folder = state / "dbt" / "packages" / key
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="deps-", dir=folder.parent) as tmp:
        work = Path(tmp)
        copy = work / "project"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns(*project.SKIP))
        lines: list[str] = []
        if invoke(python, ["deps"], copy, work, {}, lines.append) != 0:
            raise ConfigError(f"{where}: `dbt deps` failed:\n  " + "\n  ".join(lines[-8:]))
        installed = copy / project.install_path(config)
        installed.mkdir(exist_ok=True)
        for entry in installed.iterdir():  # a local package is a link into this copy, removed below
            if entry.is_symlink():
                target = entry.resolve()
                entry.unlink()
                shutil.copytree(target, entry)
        try:
            installed.rename(folder)
        except OSError:  # another compile installed them meanwhile
            if not folder.is_dir():
                raise
    log(f"{where}: dbt packages installed in {folder}")
    return folder
