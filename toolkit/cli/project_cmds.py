"""init, validate, compile, schema."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from headrace.cli.output import console

PROJECT = click.argument("project", type=click.Path(file_okay=False, path_type=Path), default=".")


def template_dir() -> Path:
    import headrace.project_template as template

    return Path(next(iter(template.__path__)))


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a new project in DIRECTORY from the working example."""
    if directory.exists() and any(directory.iterdir()):
        raise click.ClickException(f"{directory} is not empty: pick a new folder")
    shutil.copytree(
        template_dir(),
        directory,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "__init__.py", ".headrace", ".secrets.yaml"),
    )
    console().print(
        f"Created {directory}. Next:\n  headrace validate {directory}\n  headrace run --project {directory}"
    )


@click.command()
@PROJECT
def validate(project: Path) -> None:
    """Check the project in PROJECT (default: .); exit code 2 lists every error."""
    from headrace.project.loader import load_project

    loaded = load_project(project)
    console().print(
        f"[green]ok[/green] {loaded.config.name}: {len(loaded.extractors)} extractors, "
        f"{len(loaded.transformations)} transformations, {len(loaded.datamarts)} datamarts, "
        f"{len(loaded.orchestrations)} orchestrations"
    )


@click.command(name="compile")
@PROJECT
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="default: PROJECT/.headrace/manifest.json"
)
def compile_cmd(project: Path, output: Path | None) -> None:
    """Validate PROJECT and write manifest.json, the file the runtime and Airflow read."""
    from headrace.project.compile import compile_project
    from headrace.project.manifest import read_manifest

    target = compile_project(project, output)
    manifest = read_manifest(target)
    console().print(
        f"wrote {target} (manifest version {manifest.manifest_version}: {len(manifest.tasks)} tasks, "
        f"{len(manifest.orchestrations)} orchestrations)"
    )


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="folder for the JSON Schema files",
)
def schema(output: Path) -> None:
    """Write JSON Schemas of the project files, for editor completion and checks."""
    from headrace.project.jsonschema import write_schemas

    for path in write_schemas(output):
        console().print(f"wrote {path}")


@click.command(name="plugins")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def plugins_cmd(fmt: str) -> None:
    """List the installed plugins (warehouses, storages, workers, extractors, transformations) and whether
    each is usable here: a backend whose extra is not installed says what to pip install."""
    import json

    from headrace import plugins

    rows = [
        {
            "kind": kind,
            "type": p.name,
            "distribution": p.distribution,
            "version": p.version,
            "module": p.factory.split(":")[0],
            "description": p.description,
            "usable": not p.missing(),
            "needs": "" if not p.missing() else f"{p.install_hint()} (missing {', '.join(p.missing())})",
        }
        for kind in plugins.GROUPS
        for p in plugins.plugins(kind).values()
    ]
    problems = [
        {"kind": kind, "type": name, "error": error}
        for kind in plugins.GROUPS
        for name, error in plugins.broken(kind).items()
    ]
    if fmt == "json":
        print(json.dumps(rows + problems, indent=2))
        return
    from rich.table import Table

    table = Table(title="installed plugins (entry points headrace.*)", title_justify="left")
    for column in ("kind", "type", "distribution", "version", "usable", "description"):
        table.add_column(column)
    for row in rows:
        usable = "yes" if row["usable"] else f"no: {row['needs']}"
        table.add_row(row["kind"], row["type"], row["distribution"], row["version"], usable, row["description"])
    console().print(table)
    for problem in problems:
        console(stderr=True).print(
            f"broken {problem['kind']} plugin {problem['type']!r}: {problem['error']}", markup=False
        )


COMMANDS = [init, validate, compile_cmd, schema, plugins_cmd]
