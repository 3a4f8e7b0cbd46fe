"""Errors a user can act on.

A ``ProjectError`` names the file, the line where known, the key path and what to do.
``ProjectInvalid`` carries all errors of a project at once; the CLI exits with code 2
("fix the project, do not retry"). ``TaskFailed`` is a runtime failure of one task;
``ConfigError`` one that only a change of the project or the deployment fixes (exit 2,
never retried); ``TransientError`` one that the same task may not meet again (a refused
or dropped connection, a busy warehouse: retried with backoff).
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_PROJECT_INVALID = 2  # also every ConfigError: fix the project or deployment, do not retry
EXIT_TASK_FAILED = 1
EXIT_TRANSIENT = 75  # EX_TEMPFAIL: try again later


@dataclass(frozen=True, order=True)
class ProjectError:
    file: str
    line: int | None
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class HeadraceError(Exception):
    """Base of errors shown to the user without a traceback."""


class ProjectInvalid(HeadraceError):
    def __init__(self, errors: list[ProjectError]):
        self.errors = sorted(set(errors), key=lambda e: (e.file, e.line or 0, e.path, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))


class TaskFailed(HeadraceError):
    """A task failed for a reason the message explains (source down, SQL error, ...)."""


class ConfigError(HeadraceError):
    """A runtime configuration problem: missing secret, unknown plugin, bad option, stale manifest."""


class TransientError(HeadraceError):
    """A failure that may pass by itself: connection refused or dropped, warehouse busy."""
