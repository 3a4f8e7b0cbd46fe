"""``orchestrations.yaml``: scheduled sequences of tasks; a list inside is a parallel group (ordered
inside by the data: ``headrace.project.graph.order_in_groups``)."""

from __future__ import annotations

from typing import Annotated, Any

from headrace.project.base import Identifier, Strict
from pydantic import BeforeValidator, Field, field_validator

TASK_KINDS = ("extractor", "transformation", "datamart")


def check_cron(value: str | None) -> str | None:
    """Checked with the other cross-file checks so a bad cron does not hide bad task references."""
    if value is None:
        return None
    from croniter import croniter  # imported here: only validation needs it

    if not croniter.is_valid(value):
        raise ValueError(
            f"{value!r} is not a valid cron expression: write five fields such as '0 6 * * *', "
            "a preset such as '@daily', or null for manual runs only"
        )
    return value


def _as_group(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Orchestration(Strict):
    id: Identifier
    description: str = ""
    schedule: str | None = Field(None, description="cron expression or preset; null = manual only")
    continue_on_error: bool = Field(False, description="run later steps even when a task failed")
    tasks: list[Annotated[list[str], BeforeValidator(_as_group)]] = Field(
        min_length=1,
        description="steps in order, each kind:id; a list of them is a parallel group, where a task "
        "runs after those of the group that produce its inputs",
    )

    @field_validator("schedule")
    @classmethod
    def _manual(cls, value: str | None) -> str | None:
        return None if value is None or value.strip().lower() in ("none", "manual", "") else value


class OrchestrationsFile(Strict):
    orchestrations: list[Orchestration] = Field(default_factory=list)
