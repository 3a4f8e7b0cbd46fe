"""sandbox create|run|drop|list|credentials|sweep: analysts' personal sandboxes (docs/sandboxes.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from headrace.cli.run_cmds import PROJECT_OPT
from headrace.errors import ConfigError

if TYPE_CHECKING:
    from headrace.project.manifest import Manifest
    from headrace.warehouses.base import SandboxLogin, Warehouse

USER_OPT = click.option("--user", "user", required=True, help="whose sandbox: e.g. jan_novak")
MANIFEST_OPT = click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="a compiled manifest to use (default: compile PROJECT first)",
)


@contextmanager
def _opened(project: Path, manifest_file: Path | None) -> Iterator[tuple[Manifest, Warehouse]]:
    """The manifest and the project's warehouse; a warehouse without sandboxes fails before connecting."""
    from headrace import plugins
    from headrace.project.compile import compile_project
    from headrace.project.manifest import read_manifest
    from headrace.runner import open_project_warehouse

    manifest = read_manifest(manifest_file or compile_project(project))
    kind = str(manifest.project.warehouse.get("type") or "duckdb")
    capabilities = plugins.get("warehouse", kind).capabilities
    if not getattr(capabilities, "sandboxes", False):
        raise ConfigError(
            f"sandboxes are not available on the {kind} warehouse yet: develop against a postgres or duckdb "
            "warehouse (a copy of the project with `warehouse: {type: duckdb}` works on a laptop); "
            "see docs/sandboxes.md"
        )
    with open_project_warehouse(manifest, project) as wh:
        yield manifest, wh


def _details(found: SandboxLogin, tr_id: str, user: str, show_password: bool) -> dict[str, Any]:
    fields: dict[str, Any] = dict(found.fields)
    if found.password_key is not None:
        if show_password and found.password is not None:
            fields["password"] = found.password
        else:
            fields["password"] = (
                f"in the secret store as {found.password_key}; show it with "
                f"`headrace sandbox credentials {tr_id} --user {user}`"
            )
    fields["open with"] = found.client
    return fields


def _print(fields: dict[str, Any], fmt: str, secret: bool) -> None:
    from headrace.redaction import reveal

    text = (
        json.dumps(fields, indent=2) + "\n"
        if fmt == "json"
        else "".join(f"  {k + ':':<10} {v}\n" for k, v in fields.items())
    )
    if secret:
        reveal(text)  # asked for: the one place a sandbox's password is printed
    else:
        click.echo(text, nl=False)


@click.group()
def sandbox() -> None:
    """Personal sandboxes: a transformation's inputs in a schema (or file) of your own (docs/sandboxes.md)."""


@sandbox.command()
@click.argument("transformation")
@USER_OPT
@PROJECT_OPT
@MANIFEST_OPT
@click.option("--show-password/--no-password", default=True, help="print the new login's password (default)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def create(transformation: str, user: str, project: Path, manifest: Path | None, show_password: bool, fmt: str) -> None:
    """Create USER's sandbox of TRANSFORMATION: its declared inputs under their `as` names, and a login
    valid only there (PostgreSQL) or a database file of copies (DuckDB). Prints how to connect."""
    from headrace.sandboxes import actions

    with _opened(project, manifest) as (data, wh):
        found = actions.create(wh, data, transformation, user)
        if show_password and found.password_key:
            found = wh.sandbox_login(str(found.fields["user"]), with_password=True)
    if fmt == "table":
        click.echo(f"sandbox of {transformation} for {user} created; connect with:")
    _print(_details(found, transformation, user, show_password), fmt, secret=show_password)


@sandbox.command()
@click.argument("transformation")
@USER_OPT
@PROJECT_OPT
@MANIFEST_OPT
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def credentials(transformation: str, user: str, project: Path, manifest: Path | None, fmt: str) -> None:
    """Show how to connect to USER's sandbox of TRANSFORMATION, with its password (from the secret store)."""
    from headrace.sandboxes import actions

    with _opened(project, manifest) as (_, wh):
        found = actions.login(wh, transformation, user, with_password=True)
    _print(_details(found, transformation, user, True), fmt, secret=True)


@sandbox.command()
@click.argument("transformation")
@USER_OPT
@PROJECT_OPT
@MANIFEST_OPT
def run(transformation: str, user: str, project: Path, manifest: Path | None) -> None:
    """Run TRANSFORMATION's compiled SQL in USER's sandbox, as the sandbox's login; publishes nothing.

    What earlier runs (or you) made in the sandbox is removed first; the inputs stay."""
    from headrace.sandboxes import actions

    with _opened(project, manifest) as (data, wh):
        made = actions.run(wh, data, transformation, user, click.echo)
    click.echo(f"made in the sandbox ({len(made)} table(s)):")
    for name, rows in made.items():
        click.echo(f"  {name}: {rows:,} rows")


@sandbox.command()
@click.argument("transformation")
@USER_OPT
@PROJECT_OPT
@MANIFEST_OPT
def drop(transformation: str, user: str, project: Path, manifest: Path | None) -> None:
    """Remove USER's sandbox of TRANSFORMATION: its schema (or file), its login and its stored password."""
    from headrace.sandboxes import actions

    with _opened(project, manifest) as (_, wh):
        name = actions.drop(wh, transformation, user)
    click.echo(f"sandbox {name} dropped")


@sandbox.command(name="list")
@PROJECT_OPT
@MANIFEST_OPT
def list_cmd(project: Path, manifest: Path | None) -> None:
    """The sandboxes, whose they are and when each was last used."""
    from headrace.sandboxes import actions

    with _opened(project, manifest) as (data, wh):
        found = actions.entries(wh)
        idle = data.project.sandboxes.idle_expiry
    if not found:
        click.echo("no sandboxes")
        return
    click.echo(f"{'user':<20} {'transformation':<24} {'sandbox':<40} last used")
    for e in found:
        click.echo(f"{e.user:<20} {e.transformation:<24} {e.name:<40} {e.last_used_at:%Y-%m-%d %H:%M}")
    after = f"{idle // 86400} days" if idle % 86400 == 0 else f"{idle // 3600} h"
    click.echo(f"(a sandbox unused for {after} is dropped by `headrace sandbox sweep`)")


@sandbox.command()
@PROJECT_OPT
@MANIFEST_OPT
def sweep(project: Path, manifest: Path | None) -> None:
    """Drop sandboxes unused for longer than `sandboxes: {idle_expiry: ...}` in project.yaml (default 7d)."""
    from headrace.sandboxes import actions

    with _opened(project, manifest) as (data, wh):
        dropped = actions.sweep(wh, data.project.sandboxes.idle_expiry, click.echo)
    click.echo(f"{len(dropped)} idle sandbox(es) dropped")


COMMANDS = [sandbox]
