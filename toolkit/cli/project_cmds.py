"""init, validate, compile, schema."""

from __future__ import annotations

import json
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


def compile_project(project: Path, output: Path | None = None, commit: str | None = None) -> Path:
    from headrace.paths import manifest_path
    from headrace.project.compile import build_manifest, git_commit, write_manifest
    from headrace.project.loader import load_project

    loaded = load_project(project)
    target = output or manifest_path(project)
    write_manifest(build_manifest(loaded, commit or git_commit(loaded.root)), target)
    return target


@click.command(name="compile")
@PROJECT
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="default: PROJECT/.headrace/manifest.json"
)
def compile_cmd(project: Path, output: Path | None) -> None:
    """Validate PROJECT and write manifest.json, the file the runtime and Airflow read."""
    target = compile_project(project, output)
    data = json.loads(target.read_text())
    console().print(f"wrote {target} ({len(data['tasks'])} tasks, {len(data['orchestrations'])} orchestrations)")


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


COMMANDS = [init, validate, compile_cmd, schema]
