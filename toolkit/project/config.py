"""``project.yaml``: name, warehouse, storage, worker, secrets and task defaults.

The ``warehouse:``, ``storage:``, ``worker:`` and ``secrets:`` blocks are unions of the installed
plugins' config models (discriminated by ``type``), so the model is built from the
registry: ``project_config_model()``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, Union

from headrace.project.base import Duration, Identifier, Strict
from pydantic import Field, IPvAnyNetwork, create_model, field_validator

if TYPE_CHECKING:
    from headrace.plugins import Kind


class TaskDefaults(Strict):
    # defaults by keyword: type checkers read a positional one as "required" (TaskDefaults() below)
    timeout: Duration = Field(default=3600, description="seconds (or '30m', '2h') before a task is stopped")
    retries: int = Field(
        default=0, ge=0, le=10, description="Airflow retries of a failed task (never for configuration errors)"
    )
    retry_delay: Duration = Field(default=60, description="seconds before the first retry; doubles with each retry")


class SecuritySettings(Strict):
    """What the project may do beyond reading its own files and writing its own schemas."""

    allow_urls_to: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="networks (CIDR, e.g. 169.254.170.0/24) that URL sources may reach although they are "
        "link-local or cloud metadata addresses, which are refused otherwise",
    )
    custom_dags: bool = Field(
        default=True,
        description="link the project's dags/ folder into Airflow; its Python code runs with the platform's rights",
    )


class Retention(Strict):
    keep_runs: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="raw run folders kept in storage per table: those of its last N successful loads; "
        "older ones are deleted after each successful load",
    )


class Sandboxes(Strict):
    idle_expiry: Duration = Field(
        default=7 * 86400,
        description="an analyst's sandbox not used for this long ('7d', '12h') is dropped by "
        "`headrace sandbox sweep` (docs/sandboxes.md)",
    )


class ProjectConfig(Strict):
    """The fixed part of ``project.yaml``; ``project_config_model()`` adds the plugin blocks."""

    name: Identifier
    description: str = ""
    warehouse: Any = None
    storage: Any = None
    worker: Any = None
    secrets: Any = None
    defaults: TaskDefaults = Field(default_factory=TaskDefaults)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    retention: Retention = Field(default_factory=Retention, description="how long extracted raw files are kept")
    sandboxes: Sandboxes = Field(default_factory=Sandboxes, description="analysts' personal sandboxes")

    @field_validator("secrets", mode="before")
    @classmethod
    def _no_secret_in_secrets(cls, value: Any) -> Any:
        """The secrets backend cannot take its own settings from itself: ``${env:...}`` only."""
        for key, item in (value or {}).items() if isinstance(value, dict) else ():
            if isinstance(item, str) and "${secret:" in item:
                raise ValueError(f"{key}: a ${{secret:...}} cannot configure the secrets backend: use ${{env:NAME}}")
        return value


def plugin_union(kind: Kind) -> Any:
    """The installed plugins' config models of ``kind`` as one type, discriminated by ``type``."""
    from headrace import plugins

    models = plugins.config_models(kind)
    return models[0] if len(models) == 1 else Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


def _union(kind: Kind, default: str) -> tuple[Any, Any]:
    from headrace import plugins

    known = plugins.plugins(kind)
    factory = known[default].config if default in known else None
    return plugin_union(kind), Field(default_factory=factory) if factory else ...


@functools.cache
def project_config_model() -> type[ProjectConfig]:
    """``ProjectConfig`` with ``warehouse``, ``storage``, ``worker`` and ``secrets`` typed by the installed plugins."""
    return create_model(
        "ProjectConfig",
        __base__=ProjectConfig,
        __doc__=ProjectConfig.__doc__,
        warehouse=_union("warehouse", "duckdb"),
        storage=_union("storage", "local"),
        worker=_union("worker", "local"),
        secrets=_union("secrets", "env"),
    )
