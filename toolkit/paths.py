"""Where a project's local state lives: manifest, DuckDB file, local storage."""

from __future__ import annotations

import os
from pathlib import Path

MANIFEST = "manifest.json"
PROJECT_FILE = "project.yaml"  # where warehouse:, storage: and worker: come from (named in messages)


def state_dir(project_dir: Path) -> Path:
    """``HEADRACE_STATE_DIR`` or ``<project>/.headrace`` (git-ignored)."""
    configured = os.environ.get("HEADRACE_STATE_DIR")
    return Path(configured).resolve() if configured else project_dir.resolve() / ".headrace"


def manifest_path(project_dir: Path) -> Path:
    """The compiled manifest belongs to this version of the project: ``<project>/.headrace/``.

    Data state (DuckDB file, local storage) may live elsewhere (``HEADRACE_STATE_DIR``)
    so that it survives a project update that swaps the project folder.
    """
    return project_dir.resolve() / ".headrace" / MANIFEST
