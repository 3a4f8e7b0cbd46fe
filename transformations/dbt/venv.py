"""dbt's own virtual environment: dbt-core and the warehouse's adapter, made from PyPI by Headrace.

dbt's pins fight Airflow's (docs/machine-facts: they downgrade several of its dependencies), so
dbt never runs in Headrace's environment. One environment per set of pins, under Headrace's
cache folder (``HEADRACE_CACHE_DIR``, default ``~/.cache/headrace``), keyed by the pins and the
Python version; made when the project is compiled (``headrace compile``, the project-update DAG)
or by ``headrace dbt install``, never when Airflow parses DAGs. A lock keeps parallel makers apart.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from headrace.errors import ConfigError

DBT_CORE = "dbt-core>=1.9,<1.12"  # 1.12 cannot be installed offline (its build downloads from GitHub)
ADAPTERS = {  # Capabilities.dbt_adapter -> what is installed beside dbt-core
    "dbt-duckdb": "dbt-duckdb>=1.9,<1.12",
    "dbt-postgres": "dbt-postgres>=1.9,<1.12",
    "dbt-bigquery": "dbt-bigquery>=1.9,<1.12",
    "dbt-snowflake": "dbt-snowflake>=1.9,<1.12",
}
READY = ".headrace-ready"


def cache_dir() -> Path:
    configured = os.environ.get("HEADRACE_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "headrace"


def specs(adapter: str) -> list[str]:
    if adapter not in ADAPTERS:
        raise ConfigError(f"no dbt adapter {adapter!r} is known; known: {', '.join(ADAPTERS)}")
    return [DBT_CORE, ADAPTERS[adapter]]


def venv_dir(adapter: str) -> Path:
    key = "\n".join([*specs(adapter), f"python{sys.version_info.major}.{sys.version_info.minor}"])
    return cache_dir() / "dbt" / f"venv-{adapter}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def python_of(adapter: str) -> Path | None:
    """dbt's Python if its environment is made, else None."""
    folder = venv_dir(adapter)
    return folder / "bin" / "python" if (folder / READY).is_file() else None


def ensure(adapter: str, log: Callable[[str], None] = print) -> Path:
    """dbt's Python for ``adapter``, its environment made first if it is not there."""
    folder = venv_dir(adapter)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / READY).is_file():
            _make(folder, specs(adapter), log)
    return folder / "bin" / "python"


def _uv() -> str | None:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else shutil.which("uv")


def _make(folder: Path, wanted: list[str], log: Callable[[str], None]) -> None:
    log(f"making dbt's virtual environment {folder} ({', '.join(wanted)}) from PyPI")
    shutil.rmtree(folder, ignore_errors=True)
    uv = _uv()
    python = str(folder / "bin" / "python")
    if uv:
        steps = [
            [sys.executable, "-m", "venv", "--without-pip", str(folder)],
            [uv, "pip", "install", "-q", "--python", python, *wanted],
        ]
    else:
        steps = [[sys.executable, "-m", "venv", str(folder)], [python, "-m", "pip", "install", "-q", *wanted]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise ConfigError(
                f"cannot make dbt's virtual environment ({' '.join(wanted)}): {tail}\n"
                "  (Headrace installs dbt from PyPI into its own environment: the machine needs PyPI, "
                "or a package index in PIP_INDEX_URL/UV_INDEX_URL)"
            )
    (folder / READY).write_text("\n".join(wanted) + "\n")
