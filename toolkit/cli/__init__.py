"""The ``headrace`` command. Commands are thin: they call the toolkit and print."""

from __future__ import annotations

import sys

import click
from headrace import __version__
from headrace.cli.output import run_cli


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="headrace")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def cli(debug: bool) -> None:
    """Headrace: extract, load, transform and publish data from a git project of YAML and SQL."""
    # --debug is read by run_cli, which decides how errors are shown


def _register() -> None:
    from headrace.cli import cleanup_cmds, datamart_cmds, docs_cmds, project_cmds, run_cmds, sandbox_cmds, worker_cmds

    for module in (project_cmds, run_cmds, cleanup_cmds, datamart_cmds, sandbox_cmds, worker_cmds, docs_cmds):
        for command in module.COMMANDS:
            cli.add_command(command)
    try:
        from headrace.orchestrator import cli as airflow_cli
    except ImportError:
        return
    cli.add_command(airflow_cli.airflow)


def main() -> None:
    from headrace import redaction

    redaction.install()  # everything this process prints passes one redaction point
    _register()
    sys.exit(run_cli(cli))
