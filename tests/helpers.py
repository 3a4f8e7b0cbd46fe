"""Helpers shared by the tests: write a project, run the real CLI, read results."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from headrace.warehouses.base import Warehouse

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "project_template"


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: content}``; str content is dedented."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def headrace(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``headrace`` command in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "headrace", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_ok(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = headrace(*args, **kwargs)  # type: ignore[arg-type]
    assert result.returncode == 0, f"headrace {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def open_test_warehouse(config: dict, state_dir: Path, environ: dict[str, str] | None = None) -> Warehouse:
    """Headrace's own warehouse for a ``warehouse:`` block of project.yaml (references resolved)."""
    from headrace.resolve import resolved_config
    from headrace.secrets import SecretResolver
    from headrace.warehouses import open_warehouse

    secrets = SecretResolver(state_dir, environ={**os.environ, **(environ or {})})
    return open_warehouse(resolved_config("warehouse", config, secrets, "project.yaml", "warehouse"), state_dir)
