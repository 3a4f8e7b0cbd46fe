"""JSON Schemas of the project files (``headrace schema``), for editors and CI checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from headrace import plugins
from headrace.project.config import plugin_union, project_config_model
from headrace.project.datamarts import DatamartsFile
from headrace.project.orchestrations import OrchestrationsFile
from pydantic import TypeAdapter


def _union_schema(kind: plugins.Kind) -> dict[str, Any]:
    models = plugins.config_models(kind)
    if len(models) == 1:
        return models[0].model_json_schema(by_alias=True)
    return TypeAdapter(plugin_union(kind)).json_schema(by_alias=True)


def schemas() -> dict[str, dict[str, Any]]:
    """One schema per project file, built from the installed plugins' config models."""
    out = {
        "project": project_config_model().model_json_schema(by_alias=True),
        "extractor": _union_schema("extractor"),
        "transformation": _union_schema("transformation"),
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
