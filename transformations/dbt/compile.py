"""What a dbt transformation needs before it runs, made when the project is validated and compiled:
dbt's environment, the project's packages (``dbt deps``) and its parsed manifest (``dbt parse``),
from which the manifest's ``DbtRun`` (nodes for lineage) and the project's errors come.

The parse result is cached by the content of the dbt project, the inputs and the pins, so
validating an unchanged project parses nothing.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from headrace.errors import ConfigError, ProjectError
from headrace.paths import state_dir
from headrace.plugins import Plugin
from headrace.project.confine import OutsideProject, resolve_inside
from headrace.project.manifest import DbtNode, DbtRun
from headrace.transformations.dbt import packages, project, venv
from headrace.transformations.dbt.invoke import invoke
from headrace.transformations.dbt.profiles import OFFLINE_COMPILE, PARSE_LOGINS, profile

RELATIONS = ("model", "seed", "snapshot")
PARSE_VERSION = "2"  # bump when what is cached changes
UNKNOWN_SOURCE = re.compile(
    r"\((?P<file>[^)]+)\) depends on a source named '(?P<source>[^.']+)\.(?P<table>[^']+)' which was not found"
)


def compile_task(
    component: str, config: Any, root: Path, warehouse: Plugin
) -> tuple[dict[str, Any], list[ProjectError]]:
    file = f"transformations/{component}/transformation.yaml"
    adapter = warehouse.capabilities.dbt_adapter
    if not adapter:
        hint = "use a SQL transformation, or a warehouse with a dbt adapter (duckdb, postgres, bigquery, snowflake)"
        return {}, [ProjectError(file, None, "type", f"the {warehouse.name} warehouse has no dbt adapter", hint)]
    try:
        folder = resolve_inside(root, Path("transformations") / component / config.project_dir)
    except OutsideProject as exc:
        return {}, [ProjectError(file, None, "project_dir", str(exc), "keep the dbt project inside the git project")]
    rel = folder.relative_to(root.resolve()).as_posix()
    if not (folder / "dbt_project.yml").is_file():
        hint = "put the dbt project (dbt_project.yml, models/) there, or point project_dir at its folder"
        return {}, [ProjectError(file, None, "project_dir", f"no dbt_project.yml in {rel}/", hint)]
    try:
        settings = project.settings(folder)
    except ConfigError as exc:
        return {}, [ProjectError(f"{rel}/dbt_project.yml", None, "", str(exc).split(": ", 1)[-1], "")]
    python_files = project.python_models(folder, settings)
    if python_files:
        return {}, [_python_error(f"{rel}/{p}") for p in python_files]
    python = venv.ensure(adapter)
    inputs = [i.local_name for i in config.inputs]
    state = state_dir(root)
    installed = packages.ensure(python, folder, settings, state, rel, lambda _: None)
    parsed, failure = _parse(python, adapter, folder, settings, inputs, installed)
    if failure:
        return {}, [_parse_error(failure, rel, file)]
    nodes, errors = _check(parsed, rel, file, config)
    run = DbtRun(project_dir=rel, adapter=adapter, threads=config.threads, nodes=nodes)
    return ({"dbt": run} if not errors else {}), errors


def _python_error(path: str) -> ProjectError:
    return ProjectError(
        path,
        None,
        "",
        "a Python model: dbt would run its Python outside the warehouse's confinement",
        "write it as a SQL model (.sql); Headrace runs only SQL models",
    )


def _parse(
    python: Path, adapter: str, folder: Path, settings: dict[str, Any], inputs: list[str], installed: Path | None
) -> tuple[dict[str, Any], str]:
    """dbt's parsed manifest (its nodes and sources) and, if the parse failed, dbt's error."""
    login = PARSE_LOGINS[adapter]
    key = project.content_key(folder, PARSE_VERSION, str(python), repr(login), *inputs, str(installed))
    cached = venv.cache_dir() / "dbt" / "parsed" / f"{key}.json"
    if cached.is_file():
        data = json.loads(cached.read_text(encoding="utf-8"))
        return data["manifest"], data["failure"]
    with tempfile.TemporaryDirectory(prefix="headrace-dbt-parse-") as tmp:
        work = Path(tmp)
        copy = work / "project"
        project.copy_for_run(folder, copy, settings, inputs, login.schema, installed)
        text, env = profile(adapter, login, 1)
        (work / "profiles.yml").write_text(text, encoding="utf-8")
        lines: list[str] = []
        # where dbt compiles without the warehouse, the nodes get compiled SQL (else raw SQL): with
        # the session's confinement, as compiling runs the models' introspective queries
        code = 1
        if adapter in OFFLINE_COMPILE:
            code = invoke(python, ["compile"], copy, work, env, lines.append)
        if code != 0:  # a model whose compiling needs the warehouse's tables: parse only
            lines.clear()
            code = invoke(python, ["parse"], copy, work, env, lines.append)
        manifest_file = work / "target" / "manifest.json"
        if code == 0 and manifest_file.is_file():
            full = json.loads(manifest_file.read_text(encoding="utf-8"))
            manifest, failure = {"nodes": full.get("nodes", {}), "sources": full.get("sources", {})}, ""
        else:
            manifest, failure = {}, _dbt_error(lines)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f".{cached.name}.{os.getpid()}")  # parallel compiles read whole files only
    partial.write_text(json.dumps({"manifest": manifest, "failure": failure}), encoding="utf-8")
    os.replace(partial, cached)
    return manifest, failure


def _parse_error(failure: str, rel: str, file: str) -> ProjectError:
    missing = UNKNOWN_SOURCE.search(failure)
    if missing and missing["source"] == "inputs":
        return ProjectError(
            f"{rel}/{missing['file']}",
            None,
            "",
            f"source('inputs', '{missing['table']}') is not an input of this transformation",
            f"declare it in {file} (inputs: a table with `as: {missing['table']}`) or read another input",
        )
    if missing:
        return ProjectError(
            f"{rel}/{missing['file']}",
            None,
            "",
            f"source('{missing['source']}', '{missing['table']}'): a dbt transformation reads only the source 'inputs'",
            f"declare the table as an input in {file} and read it as {{{{ source('inputs', '<as-name>') }}}}",
        )
    hint = "read dbt's message; inputs are {{ source('inputs', '<as-name>') }} of the inputs declared in " + file
    return ProjectError(rel, None, "", f"`dbt parse` failed: {failure}", hint)


def _dbt_error(lines: list[str]) -> str:
    """The lines of dbt's output that say what is wrong (without its timestamps)."""
    text = [line.split("  ", 1)[-1].strip() if line[:2].isdigit() else line.strip() for line in lines]
    text = [t for t in text if t and not t.startswith(("Running with dbt", "Registered adapter", "Encountered an"))]
    return " ".join(text[-6:]) or "dbt gave no message"


def _check(parsed: dict[str, Any], rel: str, file: str, config: Any) -> tuple[list[DbtNode], list[ProjectError]]:
    errors: list[ProjectError] = []
    nodes: list[DbtNode] = []
    made: set[str] = set()
    for node in parsed.get("sources", {}).values():
        if node.get("source_name") != "inputs":
            errors.append(
                ProjectError(
                    f"{rel}/{node.get('original_file_path')}",
                    None,
                    f"sources.{node.get('source_name')}",
                    f"source {node.get('source_name')!r}: a dbt transformation reads only the source 'inputs'",
                    f"declare the table as an input in {file} and read it as {{{{ source('inputs', '<as-name>') }}}}",
                )
            )
    for uid, node in sorted(parsed.get("nodes", {}).items()):
        kind = node.get("resource_type", "")
        if node.get("language") == "python":
            errors.append(_python_error(f"{rel}/{node.get('original_file_path')}"))
        name = (node.get("alias") or node.get("name")) if kind in RELATIONS else node.get("name")
        if kind in RELATIONS:
            made.add(name)
        nodes.append(
            DbtNode(
                unique_id=uid,
                name=name,
                resource_type=kind,
                depends_on=list(node.get("depends_on", {}).get("nodes", [])),
                columns=list(node.get("columns", {})),
                sql=(node.get("compiled_code") or node.get("raw_code")) if kind != "seed" else None,
            )
        )
    for index, output in enumerate(config.outputs):
        if output not in made:
            errors.append(
                ProjectError(
                    file,
                    None,
                    f"outputs[{index}]",
                    f"no model, seed or snapshot of the dbt project in {rel}/ makes {output!r}",
                    f"add models/{output}.sql to the dbt project or remove {output} from outputs",
                )
            )
    return nodes, errors
