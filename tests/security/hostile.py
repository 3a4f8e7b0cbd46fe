"""Helpers of the hostile-input tests: the example project with one hostile change."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from headrace.errors import ProjectError, ProjectInvalid
from headrace.project.loader import load_project

from tests.orchestrator.support import copy_template

MEMORY_LIMIT = 2 * 1024**3  # an alias bomb that expanded would need far more, and fail with MemoryError


def example(tmp_path: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """A copy of the example project with ``files`` (relative path -> content) written over it."""
    root = copy_template(tmp_path / "project")
    for rel, content in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def errors_of(root: Path) -> list[ProjectError]:
    """The project's errors from the loader, in-process; a valid project fails the test."""
    try:
        load_project(root)
    except ProjectInvalid as exc:
        return exc.errors
    raise AssertionError("the hostile project validated")


def validate(root: Path) -> subprocess.CompletedProcess[str]:
    """``headrace validate`` through the real CLI, with its address space capped."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "headrace", "validate", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=cap,
        check=False,
    )


def alias_bomb(levels: int = 12) -> str:
    """The "billion laughs" in YAML: 9**levels strings from a few hundred bytes."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"
