"""A project of container components: the shipped example (project_template/examples/container)
and a component that breaks the contract on purpose (tests/components/hostile)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import write_files

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "project_template" / "examples" / "container"
HOSTILE = Path(__file__).resolve().parent / "hostile"


def make(root: Path, warehouse: dict[str, Any] | None = None, hostile: dict[str, dict[str, Any]] | None = None) -> Path:
    """The example's extractor and transformation copied in as its README says; ``hostile`` adds
    extractors of the hostile image (id -> extra keys of the extractor's file)."""
    project = {"name": "containers", "warehouse": warehouse or {"type": "duckdb"}}
    write_files(root, {"project.yaml": yaml.safe_dump(project)})
    shutil.copytree(EXAMPLE, root / "examples" / "container")
    (root / "extractors").mkdir()
    shutil.copy(EXAMPLE / "extractors" / "hello.yaml", root / "extractors" / "hello.yaml")
    shutil.copytree(EXAMPLE / "transformations", root / "transformations")
    if hostile:
        shutil.copytree(HOSTILE, root / "hostile")
        for ext_id, extra in hostile.items():
            config = {"type": "container", "build": "hostile", **extra}
            write_files(root, {f"extractors/{ext_id}.yaml": yaml.safe_dump(config, sort_keys=False)})
    return root
