"""Compile time: which image a container component runs and which worker runs it.

The task itself only moves files and talks to the warehouse, so it runs beside the
orchestrator (``local``); the image runs on the project's worker when that worker runs images
(``docker``, a worker VM), else on this machine's Docker engine (the ``docker`` worker).
A ``build:`` folder is tagged with a hash of its content: a changed Dockerfile or script is a
new tag, built once on each engine that runs it.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from headrace import plugins
from headrace.project.manifest import ContainerRun, ExtractedTable

LOCAL_IMAGE_WORKER = "docker"  # runs images when the project's worker does not
IMAGE_REPOSITORY = "headrace-component"  # built images: headrace-component-<folder>:<content hash>
_SKIP = {".git", "__pycache__", ".DS_Store"}


def content_hash(folder: Path) -> str:
    """SHA-256 over every file's path, executable bit and bytes (name order), streamed."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not _SKIP & set(p.parts)):
        rel = path.relative_to(folder).as_posix()
        digest.update(f"{rel}\0{int(os.access(path, os.X_OK))}\0".encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def image_worker(project_worker: str) -> str:
    capabilities = plugins.get("worker", project_worker).capabilities
    return project_worker if capabilities is not None and capabilities.runs_images else LOCAL_IMAGE_WORKER


def container_run(
    config: Any, root: Path, project_worker: str, outputs: list[ExtractedTable] | None = None
) -> ContainerRun:
    """The manifest's record of a container component (``config`` is its validated plugin config)."""
    build = config.build
    if build is not None:  # named for the folder: components that share a folder share its image
        name = re.sub(r"[^a-z0-9]+", "-", Path(build).name.lower()).strip("-") or "build"
        image = f"{IMAGE_REPOSITORY}-{name}:{content_hash(root / build)[:16]}"
    else:
        image = config.image
    return ContainerRun(image=image, build=build, worker=image_worker(project_worker), tables=outputs or [])


def output_prefix(transformation_id: str, table: str) -> str:
    """Where a container transformation's output files of a run are stored before they are loaded."""
    return f"out/{transformation_id}/{table}"
