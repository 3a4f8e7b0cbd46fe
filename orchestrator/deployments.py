"""Deployed project versions under ``$HEADRACE_HOME`` and the atomic switch between them.

``deployments/<id>/`` is an immutable, validated and compiled copy of one project version;
``current`` is a symlink to one of them, replaced with ``os.replace`` so a reader sees the
old or the new version, never a mix. The project's own ``dags/`` folder is linked into
Airflow's dags folder the same way.

A DAG run pins the version its first task saw (``pins/``): Airflow re-parses the DAG file
when each task starts, so without the pin a run that spans an update would run its later
tasks on the new version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from headrace.orchestrator.settings import MANIFEST_RELPATH, PROJECT_DAGS_LINK, Home

KEEP_DEPLOYMENTS = 5
PIN_DAYS = 3


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` so that readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def replace_symlink(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one atomic step (a temporary link renamed over it)."""
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def current_deployment(home: Home) -> Path | None:
    """The deployment ``current`` points at, if it is a complete one."""
    if not home.current.is_symlink():
        return None
    target = Path(os.path.realpath(home.current))
    return target if (target / MANIFEST_RELPATH).is_file() else None


def deployed(home: Home) -> dict[str, Any] | None:
    """What ``deployed.json`` says: commit, source, time, folder."""
    return read_json(home.deployed_file)


def activate(home: Home, deployment: Path, record: dict[str, Any], dags_folder: Path | None) -> None:
    """Make ``deployment`` the running version: ``current``, custom DAGs, ``deployed.json``."""
    os.utime(deployment)  # pruning keeps the most recently activated versions
    replace_symlink(home.current, os.path.relpath(deployment, home.root))
    if dags_folder is not None:
        link_project_dags(deployment, dags_folder)
    write_json(home.deployed_file, {**record, "path": str(deployment), "deployed_at": time.time()})


def custom_dags_allowed(deployment: Path) -> bool:
    """``security.custom_dags`` of the deployment's ``project.yaml`` (as compiled into its manifest)."""
    from headrace.project.manifest import read_manifest

    return read_manifest(deployment / MANIFEST_RELPATH).project.security.custom_dags


def link_project_dags(deployment: Path, dags_folder: Path) -> None:
    """``<dags folder>/project_dags`` -> the deployment's ``dags/`` (removed when it has none, or when
    ``security.custom_dags: false``: the DAGs' Python code would run with the platform's rights)."""
    link = dags_folder / PROJECT_DAGS_LINK
    custom = deployment / "dags"
    if custom.is_dir() and not custom.is_symlink() and custom_dags_allowed(deployment):
        replace_symlink(link, str(custom))
    elif link.is_symlink():
        link.unlink()


def pinned_project(home: Home, dag_id: str, run_id: str, candidate: Path) -> tuple[Path, str | None]:
    """The deployment a DAG run uses: the first task pins ``candidate``; later tasks read the pin.

    Returns the folder and a warning when the pinned version has been removed since.
    """
    home.pins.mkdir(parents=True, exist_ok=True)
    pin = home.pins / (hashlib.sha256(f"{dag_id}\0{run_id}".encode()).hexdigest()[:32] + ".json")
    tmp = pin.with_name(f".{pin.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"dag_id": dag_id, "run_id": run_id, "path": str(candidate)}), encoding="utf-8")
    try:
        os.link(tmp, pin)  # fails if another task of this run pinned first: exactly one wins
        return candidate, None
    except FileExistsError:
        data = read_json(pin) or {}
        pinned = Path(data.get("path", str(candidate)))
    finally:
        tmp.unlink()
    if (pinned / MANIFEST_RELPATH).is_file():
        return pinned, None
    return candidate, f"the version this run started on ({pinned.name}) was removed; using {candidate.name}"


def prune(home: Home, keep: int = KEEP_DEPLOYMENTS) -> list[Path]:
    """Remove old deployments: keep ``current``, the ``keep`` newest, and any pinned by a recent run."""
    cutoff = time.time() - PIN_DAYS * 86400
    pinned: set[str] = set()
    if home.pins.is_dir():
        for pin in home.pins.glob("*.json"):
            if pin.stat().st_mtime < cutoff:
                pin.unlink(missing_ok=True)
            elif data := read_json(pin):
                pinned.add(data.get("path", ""))
    active = current_deployment(home)
    folders = [p for p in home.deployments.iterdir() if p.is_dir() and not p.name.startswith(".")]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = []
    for folder in folders[keep:]:
        if folder != active and str(folder) not in pinned:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
