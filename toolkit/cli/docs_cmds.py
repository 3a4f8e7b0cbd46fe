"""docs: the static site of a project's tables, components and lineage."""

from __future__ import annotations

from pathlib import Path

import click
from headrace.cli.output import console
from headrace.cli.project_cmds import PROJECT


@click.command()
@PROJECT
@click.option(
    "-o", "--output", type=click.Path(file_okay=False, path_type=Path), help="default: PROJECT/.headrace/docs"
)
@click.option("--no-warehouse", is_flag=True, help="leave out live columns, row counts and freshness")
def docs(project: Path, output: Path | None, no_warehouse: bool) -> None:
    """Build a static site of PROJECT: tables, components, SQL and lineage (compiles first)."""
    from headrace.docsite import build_site
    from headrace.paths import manifest_path
    from headrace.project.compile import compile_project

    target = compile_project(project, None)
    out = output or manifest_path(project).parent / "docs"
    index = build_site(target, project, out, with_warehouse=not no_warehouse)
    import json

    data = json.loads((out / "data.json").read_text(encoding="utf-8"))
    counts = f"{len(data['tables'])} tables, {len(data['components'])} components"
    counts += f", {len(data['lineage']['column_edges'])} column links"
    console().print(f"wrote {index} ({counts})")
    if not data["warehouse"]["live"] or data["warehouse"]["note"]:
        console().print(f"[yellow]note:[/yellow] {data['warehouse']['note']}")
    console().print(f"open file://{index.resolve()}")


COMMANDS = [docs]
