"""cleanup: remove what killed tasks left behind, and raw run folders past retention."""

from __future__ import annotations

from pathlib import Path

import click
from headrace.cli.run_cmds import PROJECT_OPT


@click.command()
@PROJECT_OPT
@click.option("--dry-run", is_flag=True, help="list what would be removed, remove nothing")
def cleanup(project: Path, dry_run: bool) -> None:
    """Remove what killed tasks left behind; print each thing removed.

    Working schemas tr_* (with their roles on PostgreSQL) and staging tables no live task
    uses, temporary extract folders and unfinished uploads, and raw run folders beyond
    retention.keep_runs (project.yaml). Safe while tasks run: a running task's schema and
    files are left alone. Every task also does this for itself when it starts.
    """
    from headrace import retention, sweep
    from headrace.paths import PROJECT_FILE, state_dir
    from headrace.project.compile import compile_project
    from headrace.project.manifest import ExtractorTask, read_manifest
    from headrace.resolve import resolved_config
    from headrace.runner import open_project_warehouse
    from headrace.secrets import SecretResolver
    from headrace.storage import open_storage

    manifest = read_manifest(compile_project(project))
    state = state_dir(project)
    config = resolved_config(
        "storage",
        manifest.project.storage,
        SecretResolver(project.resolve(), manifest.project.secrets),
        PROJECT_FILE,
        "storage",
    )
    storage = open_storage(config, state)
    extractors = [t for t in manifest.tasks.values() if isinstance(t, ExtractorTask)]
    prefixes = [table.storage_prefix for t in extractors for table in t.tables]
    max_age = sweep.longest_life(t.timeout for t in manifest.tasks.values())
    with open_project_warehouse(manifest, project) as wh:
        removed = sweep.sweep_warehouse(wh, dry_run)
        removed += sweep.sweep_files(state, storage, prefixes, max_age, dry_run)
        keep = manifest.project.retention.keep_runs
        for task in extractors:
            for table in task.tables:
                name = f"{task.target_schema}.{table.name}"
                folders = retention.prune(storage, wh, table.storage_prefix, name, task.id, "", keep, dry_run)
                removed += [f"raw run folder {storage.url}/{key} (retention.keep_runs: {keep})" for key in folders]
    verb = "would remove" if dry_run else "removed"
    for line in removed:
        click.echo(f"{verb}: {line}")
    click.echo(f"{len(removed)} item(s) {verb}" if removed else "nothing to remove")


COMMANDS = [cleanup]
