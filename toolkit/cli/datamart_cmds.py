"""datamart credentials: the read-only login of each datamart reader."""

from __future__ import annotations

import json
from pathlib import Path

import click
from headrace.cli.run_cmds import PROJECT_OPT
from headrace.errors import ConfigError


@click.group()
def datamart() -> None:
    """Datamarts: published schemas dm_<id> and their readers."""


@datamart.command()
@click.argument("datamart_id")
@PROJECT_OPT
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def credentials(datamart_id: str, project: Path, fmt: str) -> None:
    """Show host, database, user and password of each reader of DATAMART_ID.

    Reader logins are created when the datamart is published (`headrace run datamart:ID`);
    their generated passwords are kept in the secret store (by default STATE_DIR/credentials.yaml,
    mode 0600), never in the warehouse, and shown only here (they are redacted everywhere else).
    """
    from headrace.project.compile import compile_project
    from headrace.project.manifest import DatamartTask, read_manifest
    from headrace.redaction import reveal
    from headrace.runner import open_project_warehouse

    manifest = read_manifest(compile_project(project))
    task = manifest.tasks.get(f"datamart:{datamart_id}")
    if not isinstance(task, DatamartTask):
        known = sorted(t.component for t in manifest.tasks.values() if isinstance(t, DatamartTask))
        raise ConfigError(f"no datamart {datamart_id!r} in datamarts.yaml; known: {', '.join(known) or 'none'}")
    readers = task.readers
    if not readers:
        raise ConfigError(
            f"datamart {datamart_id!r} has no readers: add `readers: [name]` to it in datamarts.yaml and publish it"
        )
    with open_project_warehouse(manifest, project) as wh:
        found = wh.reader_credentials(readers)
    if fmt == "json":
        reveal(json.dumps(found, indent=2) + "\n")
        return
    blocks = []
    for reader, info in found.items():
        if not info.get("exists"):
            blocks.append(f"{reader}: not created yet: run `headrace run datamart:{datamart_id}` first")
            continue
        password = info.get("password") or "(not created by Headrace: ask its owner)"
        # the connection settings the warehouse gives (host and port, or a Snowflake account, role, ...)
        fields = {k: v for k, v in info.items() if k not in ("password", "exists")}
        fields |= {"password": password, "schema": task.target_schema}
        blocks.append(reader + "".join(f"\n  {k + ':':<9} {v}" for k, v in fields.items()))
    reveal("\n".join(blocks) + "\n")


COMMANDS = [datamart]
