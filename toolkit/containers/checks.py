"""Project validation of container components: the build folder, and inputs the warehouse can export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from headrace import plugins
from headrace.components.container import ContainerFields
from headrace.project.confine import OUTSIDE_HINT, OutsideProject, resolve_inside
from headrace.project.model import Project

Add = Callable[[str, tuple[Any, ...], str, str], None]  # (file, key path, message, hint)


def check_build(root: Path, file: str, build: str, worker: str, add: Add) -> None:
    capabilities = plugins.get("worker", worker).capabilities
    if capabilities is not None and capabilities.starts_machine:
        add(
            file,
            ("build",),
            f"a build folder is built on a Docker engine Headrace reaches directly, and the {worker} worker "
            "runs images on a VM it starts",
            "build the image on the worker VM and name it with image:, or use the docker worker",
        )
        return
    try:
        folder = resolve_inside(root, build, root_is_real=True)
    except OutsideProject as exc:
        add(file, ("build",), str(exc), OUTSIDE_HINT)
        return
    if not folder.is_dir():
        add(file, ("build",), f"{build!r} is not a folder of the project", "give the folder that holds the Dockerfile")
    elif not (folder / "Dockerfile").is_file():
        add(file, ("build",), f"{build!r} has no Dockerfile", "add a Dockerfile to the folder, or name an image")


def check_containers(project: Project, file_of: Callable[[str], str], add: Add) -> None:
    """``file_of(prefix)`` names a component's file (``extractors/crm`` -> ``extractors/crm.yaml``)."""
    worker = project.config.worker.type
    for ext_id, config in project.extractors.items():
        if isinstance(config, ContainerFields) and config.build is not None:
            check_build(project.root, file_of(f"extractors/{ext_id}"), config.build, worker, add)
    caps = plugins.get("warehouse", project.config.warehouse.type).capabilities
    for tr_id, tr in project.transformations.items():
        if not isinstance(tr.config, ContainerFields):
            continue
        file = file_of(f"transformations/{tr_id}/transformation")
        if tr.config.build is not None:
            check_build(project.root, file, tr.config.build, worker, add)
        if tr.config.inputs and not caps.exports_tables:
            add(
                file,
                ("type",),
                f"a container transformation reads its inputs as files, and the {caps.name} warehouse "
                "cannot export tables yet",
                "write it as a SQL transformation (type: sql), or run the project on duckdb or postgres",
            )
