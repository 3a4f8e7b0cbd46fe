"""Deployment settings: where *this* install keeps its data, laid over ``project.yaml``.

A cloud install writes a YAML file (``/etc/headrace/deployment.yaml``, named by the
environment variable ``HEADRACE_DEPLOYMENT``) with the ``warehouse:``, ``storage:``,
``secrets:`` and ``worker:`` blocks of the bucket, warehouse, secret store and worker VM it created. When the variable
is set, each block the file has replaces the same block of ``project.yaml`` as a whole
(no key-by-key merge: a ``storage: {type: s3, ...}`` block shares no keys with a local one);
blocks the file leaves out stay as ``project.yaml`` has them. So one project runs on a
laptop (DuckDB, a local folder) and on the install (S3 + Snowflake, say) unchanged.

The blocks are validated by the same plugin models as ``project.yaml``'s, and every error
names the deployment file, the line and the key. Only those top-level blocks are allowed (a
block the project model does not have, in a Headrace older than the file, is left aside).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from headrace.errors import ProjectError
from headrace.project.pydantic_errors import project_errors
from headrace.project.textfile import MAX_YAML_BYTES, decode
from headrace.project.yamlfile import Document, parse_json, parse_yaml
from pydantic import BaseModel, ValidationError

ENV = "HEADRACE_DEPLOYMENT"
BLOCKS = ("warehouse", "storage", "secrets", "worker")
HINT = f"the install writes this file; fix it there or unset {ENV} to use project.yaml's blocks"


def deployment_file(environ: dict[str, str] | None = None) -> Path | None:
    """The deployment file named by ``HEADRACE_DEPLOYMENT``, or None when it is not set."""
    value = (os.environ if environ is None else environ).get(ENV, "").strip()
    return Path(value) if value else None


def read_deployment(path: Path) -> tuple[Document | None, list[ProjectError]]:
    """The deployment file as a document, or the errors that say why it cannot be read."""
    name = str(path)
    try:
        data = path.read_bytes()[: MAX_YAML_BYTES + 1]
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, [ProjectError(name, None, "", f"cannot be read ({reason}), named by {ENV}", HINT)]
    if len(data) > MAX_YAML_BYTES:
        return None, [ProjectError(name, None, "", f"is larger than {MAX_YAML_BYTES:,} bytes", HINT)]
    text, error = decode(data, name)
    if text is None:
        return None, [error] if error else []
    return parse_json(text, name) if path.suffix == ".json" else parse_yaml(text, name)


def overlay_blocks(doc: Document, model: type[BaseModel]) -> tuple[dict[str, Any], list[ProjectError]]:
    """The blocks of ``doc`` that replace ``project.yaml``'s, checked with the project's ``model``.

    Returns the blocks as written (the project model parses them again with the rest of
    ``project.yaml``) and the errors found, each naming the deployment file and key.
    """
    data = doc.data
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [ProjectError(doc.file, 1, "", "expected a mapping of blocks at the top", _allowed(model))]
    errors = [
        ProjectError(doc.file, doc.line_of((key,)), str(key), "unknown block", _allowed(model))
        for key in data
        if key not in BLOCKS
    ]
    blocks = {k: v for k, v in data.items() if k in BLOCKS and k in model.model_fields}
    try:
        model.model_validate({"name": "deployment", **blocks})  # the blocks alone, errors on this file
    except ValidationError as exc:
        errors.extend(project_errors(doc, exc))
    return ({} if errors else blocks), errors


def _allowed(model: type[BaseModel]) -> str:
    known = [b for b in BLOCKS if b in model.model_fields]
    return f"a deployment file holds only these blocks: {', '.join(known)}"


def apply_deployment(
    project_data: Any, model: type[BaseModel], environ: dict[str, str] | None = None
) -> tuple[Any, Path | None, list[ProjectError]]:
    """``project.yaml``'s data with the deployment file's blocks laid over it.

    Returns the data to validate, the deployment file used (None when ``HEADRACE_DEPLOYMENT``
    is unset) and the deployment file's errors. On errors the data is left as it was, so
    ``project.yaml``'s own errors are still reported, and nothing half-applied runs.
    """
    path = deployment_file(environ)
    if path is None or not isinstance(project_data, dict):
        return project_data, path, []
    doc, errors = read_deployment(path)
    if doc is None:
        return project_data, path, errors
    blocks, errors = overlay_blocks(doc, model)
    return {**project_data, **blocks}, path, errors
