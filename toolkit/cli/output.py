"""Printing and error handling shared by the commands.

Everything printed passes ``headrace.redaction`` (installed on stdout and stderr by ``main``).
"""

from __future__ import annotations

import sys
from typing import Any

import click
from headrace.errors import (
    EXIT_PROJECT_INVALID,
    EXIT_TASK_FAILED,
    EXIT_TRANSIENT,
    ConfigError,
    HeadraceError,
    ProjectInvalid,
    TransientError,
)


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_project_errors(exc: ProjectInvalid) -> None:
    err = console(stderr=True)
    for error in exc.errors:
        err.print(str(error), markup=False)
    count = len(exc.errors)
    err.print(f"\n{count} error{'s' if count != 1 else ''} in the project: fix them and run again.", style="bold red")


def run_cli(group: click.Group) -> int:
    """Run the click group; map Headrace errors to messages and exit codes.

    2: fix the project or the configuration (never retried); 75: transient, try again
    later; 1: anything else that failed.
    """
    debug = "--debug" in sys.argv[1:]
    try:
        code = group.main(standalone_mode=False)
        # without standalone mode click returns the code of an ``Exit`` a command raised (run-task's 2
        # or 75) instead of exiting with it; commands themselves return None
        return code if isinstance(code, int) else 0
    except ProjectInvalid as exc:
        if debug:
            raise
        print_project_errors(exc)
        return EXIT_PROJECT_INVALID
    except HeadraceError as exc:
        if debug:
            raise
        console(stderr=True).print(f"error: {exc}", style="red", markup=False)
        if isinstance(exc, ConfigError):
            return EXIT_PROJECT_INVALID
        return EXIT_TRANSIENT if isinstance(exc, TransientError) else EXIT_TASK_FAILED
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 130
    except KeyboardInterrupt:
        return 130
