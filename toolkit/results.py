"""The typed result of one task: what crosses the process boundary from ``headrace run-task``.

The task process prints one line ``HEADRACE_RESULT {json}`` at its end; every worker
hands that line to ``TaskResult.from_line`` (one parser for the executor, the Airflow
operator and any remote worker). The exit status carries the error class, so a worker
that lost the line still knows whether to retry. The line leaves through the task process's
redacting stdout (``headrace.redaction``): it never carries a secret value.
"""

from __future__ import annotations

from typing import Literal

from headrace.errors import EXIT_PROJECT_INVALID as EXIT_CONFIG
from headrace.errors import EXIT_TASK_FAILED, EXIT_TRANSIENT
from pydantic import BaseModel, ConfigDict, Field, ValidationError

RESULT_PREFIX = "HEADRACE_RESULT "

# timeout: stopped by its timeout; cancelled: stopped by a cancel, a stopped run or its parent's death
Status = Literal["success", "failed", "timeout", "cancelled", "skipped"]
# config: fix the project or the deployment (exit 2, never retried); transient: the same task may
# succeed later (exit 75, retried with backoff); task: the task itself failed (exit 1)
ErrorClass = Literal["config", "transient", "task"]

EXIT_OK = 0
EXIT_CODES: dict[ErrorClass, int] = {"task": EXIT_TASK_FAILED, "config": EXIT_CONFIG, "transient": EXIT_TRANSIENT}


class TaskResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: str
    status: Status
    rows: int | None = None
    bytes: int | None = None
    duration_s: float = 0.0
    error: str | None = None
    error_class: ErrorClass | None = None
    tables: dict[str, int] = Field(default_factory=dict)
    # what the task found wrong without failing (a SQL assertion's WARNING rows), also in its log
    warnings: list[str] = Field(default_factory=list)

    def to_line(self) -> str:
        return RESULT_PREFIX + self.model_dump_json()

    @classmethod
    def from_line(cls, line: str) -> TaskResult | None:
        """The result if ``line`` is a result line, else None (a malformed one is ignored, not fatal)."""
        if not line.startswith(RESULT_PREFIX):
            return None
        try:
            return cls.model_validate_json(line[len(RESULT_PREFIX) :])
        except ValidationError:
            return None


class TransformationOutcome(BaseModel):
    """What a transformation plugin's ``run`` may return instead of its bare rows per published output:
    those rows and its warnings (``TaskResult.warnings``)."""

    model_config = ConfigDict(extra="forbid")

    rows: dict[str, int]
    warnings: list[str] = Field(default_factory=list)


def error_class_of_exit(returncode: int) -> ErrorClass:
    """The error class a task's exit status reports."""
    if returncode == EXIT_CONFIG:
        return "config"
    if returncode == EXIT_TRANSIENT:
        return "transient"
    return "task"
