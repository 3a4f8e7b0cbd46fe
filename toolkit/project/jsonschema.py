"""JSON Schemas of the project files (``headrace schema``), for editors and CI checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Union

from headrace.extractors import registry
from headrace.project.config import ProjectConfig
from headrace.project.datamarts import DatamartsFile
from headrace.project.orchestrations import OrchestrationsFile
from headrace.transformations.config import SqlTransformationConfig
from pydantic import Field, TypeAdapter


def schemas() -> dict[str, dict[str, Any]]:
    extractor_models = tuple(registry.load(name).Config for name in sorted(registry.TYPES))
    extractor = TypeAdapter(Annotated[Union[extractor_models], Field(discriminator="type")])  # noqa: UP007
    out = {
        "project": ProjectConfig.model_json_schema(by_alias=True),
        "extractor": extractor.json_schema(by_alias=True),
        "transformation": SqlTransformationConfig.model_json_schema(by_alias=True),
        "datamarts": DatamartsFile.model_json_schema(by_alias=True),
        "orchestrations": OrchestrationsFile.model_json_schema(by_alias=True),
    }
    for name, schema in out.items():
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = f"Headrace {name} file"
    return out


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
