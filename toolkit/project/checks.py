"""Checks across files: references, duplicates, cycles, ordering, identifier limits."""

from __future__ import annotations

import difflib
from urllib.parse import urlsplit

from headrace import plugins
from headrace.containers.checks import check_containers
from headrace.errors import ProjectError
from headrace.paths import PROJECT_FILE
from headrace.project.confine import (
    OUTSIDE_HINT,
    PROJECT_PATH,
    PROJECT_URL,
    OutsideProject,
    marked_values,
    resolve_inside,
)
from headrace.project.graph import (
    WORK_SUFFIX_LENGTH,
    dependencies,
    dm_schema,
    find_cycle,
    in_schema,
    out_schema,
    producers,
)
from headrace.project.model import Project
from headrace.project.orchestrations import TASK_KINDS, check_cron
from headrace.project.yamlfile import Document, Loc, format_loc
from headrace.urlguard import AddressRefused, UrlPolicy


class _Report:
    def __init__(self, docs: dict[str, Document]):
        self.docs = docs
        self.errors: list[ProjectError] = []
        self._by_stem: dict[str, str] = {}
        for name in docs:  # the first one wins, as a scan in order would find it
            self._by_stem.setdefault(name.rsplit(".", 1)[0], name)

    def file(self, prefix: str) -> str:
        """The project file of ``prefix`` (``extractors/crm`` -> ``extractors/crm.yaml``), by index, not by scan."""
        return self._by_stem.get(prefix, prefix + ".yaml")

    def add(self, file: str, loc: Loc, message: str, hint: str = "") -> None:
        doc = self.docs.get(file)
        line = doc.line_of(loc) if doc else None
        self.errors.append(ProjectError(file, line, format_loc(loc), message, hint))


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean {close[0]!r}?" if close else "known: " + (", ".join(sorted(known)[:8]) or "none")


def _from_broken(project: Project, ref: str) -> bool:
    """True when ``ref`` (a schema.table or task id) belongs to a component whose own file failed."""
    schema = ref.split(".")[0]
    for task in project.broken:
        kind, _, cid = task.partition(":")
        if task == f"{kind}:*" and ref.startswith(f"{kind}:"):
            return True
        if ref == task or schema == {"extractor": f"in_{cid}", "transformation": f"out_{cid}"}.get(kind):
            return True
    return False


def check_project(project: Project, docs: dict[str, Document]) -> list[ProjectError]:
    report = _Report(docs)
    made_by = producers(project)
    _check_extractors(project, report)
    _check_paths(project, report)
    _check_transformations(project, report, made_by)
    _check_datamarts(project, report, made_by)
    deps = dependencies(project)
    cycle = find_cycle(deps)
    if cycle:
        first = cycle[0].split(":", 1)[1]
        report.add(
            report.file(f"transformations/{first}/transformation"),
            ("inputs",),
            "dependency cycle: " + " -> ".join(cycle),
            "a transformation cannot read, directly or through others, what it writes",
        )
    _check_orchestrations(project, report, deps)
    _check_identifiers(project, report)
    check_containers(project, report.file, report.add)
    _check_worker(project, report)
    return report.errors + _plugin_checks(project)


def _plugin_checks(project: Project) -> list[ProjectError]:
    """Each transformation plugin compiles its own files (the ``sql`` type splits its SQL and transpiles
    it to the warehouse's dialect); what cannot be compiled is an error of the project."""
    warehouse = plugins.get("warehouse", project.config.warehouse.type)
    dialect = warehouse.capabilities.dialect
    errors: list[ProjectError] = []
    for tr_id, tr in project.transformations.items():
        plugin = plugins.get("transformation", tr.config.type)
        compile_files = plugin.load_compile_files()
        if compile_files is not None:
            tr.compiled, found = compile_files(tr_id, tr.config, [(f.name, f.sql) for f in tr.sql_files], dialect)
            errors.extend(found)
        compile_task = plugin.load_compile_task()
        if compile_task is not None:  # e.g. the dbt type: installs dbt and parses the dbt project
            tr.task_fields, found = compile_task(tr_id, tr.config, project.root, warehouse)
            errors.extend(found)
    return errors


def _docker_elsewhere(worker: object) -> bool:
    """A ``docker`` worker whose engine is on another machine (``docker_host: ssh://...``)."""
    host = getattr(worker, "docker_host", None)
    if getattr(worker, "type", None) != "docker" or not isinstance(host, str) or "${" in host:
        return False
    from headrace.workers.docker.engine import is_local

    return not is_local(host)


def _check_worker(project: Project, report: _Report) -> None:
    """A worker on another machine (a VM) reaches network storage and warehouses only, never this machine's files."""
    cfg = project.config
    worker = plugins.get("worker", cfg.worker.type).capabilities
    if not (getattr(worker, "remote", False) or _docker_elsewhere(cfg.worker)):
        return
    local = []
    if plugins.get("storage", cfg.storage.type).capabilities.scheme == "file":
        local.append(f"storage: {cfg.storage.type} (a folder on this machine)")
    if plugins.get("warehouse", cfg.warehouse.type).capabilities.local_file:
        local.append(f"warehouse: {cfg.warehouse.type} (a file on this machine)")
    if local:
        report.add(
            PROJECT_FILE,
            ("worker",),
            f"{cfg.worker.type} runs tasks on another machine, which cannot reach " + " or ".join(local),
            "use network storage (s3, gcs, azure) and a server warehouse, or run tasks on this machine "
            "(worker: type: local, or docker with this machine's engine)",
        )


def _check_extractors(project: Project, report: _Report) -> None:
    for ext_id, config in project.extractors.items():
        file = report.file(f"extractors/{ext_id}")
        seen: set[str] = set()
        for index, table in enumerate(config.table_configs()):
            if table.name in seen:
                report.add(
                    file, ("tables", index, "name"), f"duplicate table name {table.name!r}", "names must be unique"
                )
            seen.add(table.name)
            columns = getattr(table, "columns", None)
            names = list(columns) if isinstance(columns, dict) else []
            for key in [*table.primary_key, *([table.cursor] if table.cursor else [])]:
                if names and key not in names:
                    report.add(
                        file,
                        ("tables", index),
                        f"column {key!r} is not among the table's columns",
                        _suggest(key, names),
                    )


def _check_paths(project: Project, report: _Report) -> None:
    """Every path a component names is a file inside the project (symlinks resolved); checked again at run time."""
    configs = [(report.file(f"extractors/{i}"), c) for i, c in project.extractors.items()]
    configs += [
        (report.file(f"transformations/{i}/transformation"), t.config) for i, t in project.transformations.items()
    ]
    policy = UrlPolicy([str(n) for n in project.config.security.allow_urls_to])
    for file, config in configs:
        for loc, value in marked_values(config, PROJECT_URL):
            host = _literal_host(value)
            try:
                if host:
                    policy.check_host(host)
            except AddressRefused as exc:
                report.add(file, loc, str(exc))
        for loc, value in marked_values(config, PROJECT_PATH):
            if "${" in value:  # a deployment's value: checked when the task resolves it
                continue
            try:
                real = resolve_inside(project.root, value, root_is_real=True)  # load_project resolved it
            except OutsideProject as exc:
                report.add(file, loc, str(exc), OUTSIDE_HINT)
                continue
            if not real.is_file():
                what = "is a folder, not a file" if real.is_dir() else "does not exist in the project folder"
                report.add(file, loc, f"{value!r} {what}", "give the path of a file, relative to the project folder")


def _literal_host(url: str) -> str | None:
    """The host of ``url`` when written out (not a ``${...}`` reference)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host if host and "${" not in host else None


def _check_transformations(project: Project, report: _Report, made_by: dict[str, str]) -> None:
    known = sorted(made_by)
    for tr_id, tr in project.transformations.items():
        file = report.file(f"transformations/{tr_id}/transformation")
        locals_: dict[str, int] = {}
        for index, item in enumerate(tr.config.inputs):
            loc: Loc = ("inputs", index)
            producer = made_by.get(item.table)
            if producer is None and not _from_broken(project, item.table):
                report.add(
                    file, loc, f"no extractor or transformation produces {item.table!r}", _suggest(item.table, known)
                )
            elif producer == f"transformation:{tr_id}":
                report.add(file, loc, f"reads its own output {item.table!r}", "read it from the working schema instead")
            if item.local_name in locals_:
                report.add(file, loc, f"two inputs are both named {item.local_name!r}", "give one an `as:` name")
            if item.local_name in tr.config.outputs:
                report.add(file, loc, f"input name {item.local_name!r} is also an output", "rename one with `as:`")
            locals_[item.local_name] = index
        if len(set(tr.config.outputs)) != len(tr.config.outputs):
            report.add(file, ("outputs",), "an output is listed twice", "list each output once")


def _check_datamarts(project: Project, report: _Report, made_by: dict[str, str]) -> None:
    file = report.file("datamarts")
    for dm_id, dm in project.datamarts.items():
        index = project.positions.get(f"datamart:{dm_id}", 0)
        names: set[str] = set()
        for t_index, (ref, name) in enumerate(dm.entries()):
            loc: Loc = ("datamarts", index, "tables", t_index)
            if ref not in made_by and not _from_broken(project, ref):
                report.add(
                    file, loc, f"no extractor or transformation produces {ref!r}", _suggest(ref, sorted(made_by))
                )
            if name in names:
                report.add(file, loc, f"two tables are both named {name!r} in dm_{dm_id}", "give one an `as:` name")
            names.add(name)


def _check_orchestrations(project: Project, report: _Report, deps: dict[str, list[str]]) -> None:
    file = report.file("orchestrations")
    tasks = set(deps)
    for orch_id, orch in project.orchestrations.items():
        index = project.positions.get(f"orchestration:{orch_id}", 0)
        try:
            check_cron(orch.schedule)
        except ValueError as exc:
            report.add(file, ("orchestrations", index, "schedule"), str(exc))
        position: dict[str, int] = {}
        for s_index, step in enumerate(orch.tasks):
            for g_index, ref in enumerate(step):
                loc: Loc = ("orchestrations", index, "tasks", s_index) + ((g_index,) if len(step) > 1 else ())
                kind = ref.partition(":")[0]
                if kind not in TASK_KINDS or ":" not in ref:
                    report.add(
                        file, loc, f"{ref!r} is not a task", f"write kind:id with kind one of {', '.join(TASK_KINDS)}"
                    )
                elif ref not in tasks and not _from_broken(project, ref):
                    report.add(file, loc, f"{ref!r} does not exist in this project", _suggest(ref, sorted(tasks)))
                elif ref not in tasks:
                    continue
                elif ref in position:
                    report.add(file, loc, f"{ref!r} appears twice in orchestration {orch_id!r}", "list each task once")
                else:
                    position[ref] = s_index
        # a task in the same parallel group as the producer of its input runs after it (``after`` in the
        # manifest); one in an earlier step contradicts the data
        for ref, step in position.items():
            for dep in deps.get(ref, []):
                if dep in position and position[dep] > step:
                    report.add(
                        file,
                        ("orchestrations", index, "tasks", step),
                        f"{ref} runs before {dep}, which produces its input",
                        f"move {ref} to a later step, or into {dep}'s parallel group, where it runs after it",
                    )


def _check_identifiers(project: Project, report: _Report) -> None:
    caps = plugins.get("warehouse", project.config.warehouse.type).capabilities
    limit = caps.max_identifier_length

    def check(file: str, loc: Loc, name: str, what: str) -> None:
        if len(name) > limit:
            report.add(
                file, loc, f"{what} {name!r} is {len(name)} characters; {caps.name} allows {limit}", "shorten it"
            )

    for ext_id, config in project.extractors.items():
        file = report.file(f"extractors/{ext_id}")
        check(file, (), in_schema(ext_id), "schema")
        for index, table in enumerate(config.table_configs()):
            check(file, ("tables", index, "name"), table.name, "table name")
            declared = getattr(table, "columns", None)  # a name -> type mapping (file); other extractors differ
            for column in declared if isinstance(declared, dict) else {}:
                check(file, ("tables", index, "columns", column), column, "column name")
                if not column or "\x00" in column:
                    report.add(file, ("tables", index, "columns"), f"column name {column!r} is not allowed", "name it")
    for tr_id, tr in project.transformations.items():
        file = report.file(f"transformations/{tr_id}/transformation")
        check(file, (), out_schema(tr_id), "schema")
        if len(f"tr_{tr_id}") + WORK_SUFFIX_LENGTH > limit:
            report.add(
                file,
                (),
                f"transformation id {tr_id!r} is too long: its working schema tr_<id>_<run> needs "
                f"{len(tr_id) + 3 + WORK_SUFFIX_LENGTH} characters and {caps.name} allows {limit}",
                f"rename the folder to at most {limit - 3 - WORK_SUFFIX_LENGTH} characters",
            )
        for index, name in enumerate(tr.config.outputs):
            check(file, ("outputs", index), name, "output name")
    for dm_id in project.datamarts:
        check(report.file("datamarts"), ("datamarts",), dm_schema(dm_id), "schema")
