"""What extractors and transformations of ``type: container`` share: the image and its inputs.

A container component is any program in an image that follows the contract of
``docs/components.md``: ``config`` as ``/data/config.json``, ``env`` as its environment (secrets
as ``${secret:NAME}``, resolved only when the task runs), input tables in ``/data/in/tables``,
output tables in ``/data/out/tables``. The image is named (``image``) or built from a folder of
the project with a Dockerfile (``build``) on the engine that runs it.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from headrace.components.extractor import TableConfig
from headrace.project.base import RESOLVED, Strict, Text
from pydantic import Field, ValidationInfo, field_validator, model_validator

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_IN_TEXT = re.compile(r"\$\{secret:")


def _secret_at(value: Any, path: str) -> str | None:
    """The key path of the first ``${secret:...}`` inside ``value`` (a JSON-like value), if any."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _secret_at(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _secret_at(item, f"{path}[{index}]")
            if found:
                return found
    elif isinstance(value, str) and _SECRET_IN_TEXT.search(value):
        return path
    return None


class ContainerFields(Strict):
    image: Text | None = Field(
        None, description="the image to run, present on the engine (e.g. my-extractor:1.2); or give build"
    )
    build: str | None = Field(
        None,
        description="a folder of the project with a Dockerfile: built on the engine that runs it, "
        "tagged with a hash of the folder's content; or give image",
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="any JSON object, written to /data/config.json in the container (no secrets: use env)",
    )
    env: dict[str, Text] = Field(
        default_factory=dict,
        description="environment of the container; values may be ${secret:NAME}, resolved when the task runs",
    )

    @field_validator("config")
    @classmethod
    def _no_secret_in_config(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if (info.context or {}).get(RESOLVED):
            return value
        where = _secret_at(value, "config")
        if where:
            raise ValueError(
                f"{where}: /data/config.json is a file in the container, and secrets are never written to "
                "files: pass the secret as an environment variable instead (env: {MY_TOKEN: ${secret:NAME}}) "
                "and read it from the environment"
            )
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name: use letters, digits and _")
        return value

    @field_validator("build")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or "${" in value):
            raise ValueError(f"{value!r}: give a folder of the project, relative to the project folder")
        return value

    @model_validator(mode="after")
    def _one_image(self) -> ContainerFields:
        if (self.image is None) == (self.build is None):
            raise ValueError(
                "give exactly one of image (an image present on the engine) or build "
                "(a folder of the project with a Dockerfile)"
            )
        return self


class ContainerTable(TableConfig):
    load: Literal["full", "append", "upsert"] = Field(
        "full", description="container extractors support full, append and upsert (they keep no cursor)"
    )
