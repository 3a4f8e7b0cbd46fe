"""Read a project folder into a ``Project``; collect every error before giving up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headrace import plugins
from headrace.errors import ProjectError, ProjectInvalid
from headrace.project.base import ID_HINT, ID_PATTERN
from headrace.project.config import ProjectConfig, project_config_model
from headrace.project.confine import OUTSIDE_HINT, links_out
from headrace.project.datamarts import Datamart
from headrace.project.deployment import apply_deployment
from headrace.project.model import Project, SqlFile, Transformation
from headrace.project.orchestrations import Orchestration
from headrace.project.pydantic_errors import project_errors
from headrace.project.textfile import MAX_SQL_BYTES, read_project_text
from headrace.project.yamlfile import Document, load_document
from pydantic import BaseModel, ValidationError

SUFFIXES = (".yaml", ".yml", ".json")


def _present(path: Path) -> bool:
    """Anything by that name, also a folder or a dangling link: ``load_document`` says what is wrong with it."""
    return path.exists() or path.is_symlink()


def _find(root: Path, stem: str) -> list[Path]:
    return [root / f"{stem}{s}" for s in SUFFIXES if _present(root / f"{stem}{s}")]


def _parse(doc: Document, model: type[BaseModel], errors: list[ProjectError], default: Any = None) -> Any:
    data = {} if doc.data is None and default is not None else doc.data
    if not isinstance(data, dict):
        errors.append(ProjectError(doc.file, 1, "", "expected a mapping of keys at the top", "see `headrace schema`"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors.extend(project_errors(doc, exc))
        return None


def _load(path: Path, root: Path, docs: dict[str, Document]) -> tuple[Document | None, list[ProjectError]]:
    """``load_document``, remembered in ``docs``: the cross-file checks reuse it for line numbers."""
    doc, errors = load_document(path, root)
    if doc is not None:
        docs[doc.file] = doc
    return doc, errors


def _single(
    root: Path, stem: str, errors: list[ProjectError], required: bool, docs: dict[str, Document]
) -> Document | None:
    found = _find(root, stem)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        errors.append(ProjectError(found[1].name, None, "", f"{names} all define {stem}", "keep one of them"))
    if not found:
        if required:
            errors.append(
                ProjectError(
                    f"{stem}.yaml", None, "", "missing", "a project needs project.yaml; `headrace init DIR` creates one"
                )
            )
        return None
    doc, parse_errors = _load(found[0], root, docs)
    errors.extend(parse_errors)
    return doc


def _load_extractors(root: Path, project: Project, errors: list[ProjectError], docs: dict[str, Document]) -> None:
    folder = root / "extractors"
    if not folder.is_dir():
        return
    seen: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix not in SUFFIXES:
            continue
        rel = path.relative_to(root).as_posix()
        ext_id = path.stem
        if ext_id in seen:
            message = f"duplicate extractor id {ext_id!r} (also {seen[ext_id]})"
            errors.append(ProjectError(rel, None, "", message, "keep one of the two files"))
            project.extractors.pop(ext_id, None)  # neither file is trusted; references are not errors again
            project.broken.add(f"extractor:{ext_id}")
            continue
        seen[ext_id] = rel
        if not ID_PATTERN.match(ext_id):
            errors.append(ProjectError(rel, None, "", f"file name {ext_id!r} is not a valid extractor id", ID_HINT))
            continue
        project.broken.add(f"extractor:{ext_id}")
        doc, parse_errors = _load(path, root, docs)
        errors.extend(parse_errors)
        if doc is None:
            continue
        data = doc.data if isinstance(doc.data, dict) else {}
        kind = data.get("type")
        installed = plugins.plugins("extractor")
        if not isinstance(kind, str) or kind not in installed:
            known = ", ".join(installed)
            message = "required" if kind is None else f"unknown extractor type {kind!r}"
            hint = f"use one of: {known}"
            errors.append(ProjectError(rel, doc.line_of(("type",)), "type", message, hint))
            continue
        config = _parse(doc, installed[kind].config, errors)
        if config is not None and not any(e.message.startswith(f"duplicate extractor id {ext_id!r}") for e in errors):
            project.extractors[ext_id] = config
            project.broken.discard(f"extractor:{ext_id}")
            project.files[f"extractor:{ext_id}"] = rel


def _parse_transformation(doc: Document, errors: list[ProjectError]) -> Any:
    """``transformation.yaml`` through the plugin its ``type`` names (default ``sql``)."""
    installed = plugins.plugins("transformation")
    kind = doc.data.get("type", "sql") if isinstance(doc.data, dict) else "sql"
    if not isinstance(kind, str) or kind not in installed:
        hint = f"use one of: {', '.join(installed)}"
        errors.append(
            ProjectError(doc.file, doc.line_of(("type",)), "type", f"unknown transformation type {kind!r}", hint)
        )
        return None
    return _parse(doc, installed[kind].config, errors)


def _load_transformations(root: Path, project: Project, errors: list[ProjectError], docs: dict[str, Document]) -> None:
    folder = root / "transformations"
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        rel = path.relative_to(root).as_posix()
        if not ID_PATTERN.match(path.name):
            errors.append(
                ProjectError(rel, None, "", f"folder name {path.name!r} is not a valid transformation id", ID_HINT)
            )
            continue
        found = _find(path, "transformation")
        project.broken.add(f"transformation:{path.name}")
        if not found:
            errors.append(
                ProjectError(f"{rel}/transformation.yaml", None, "", "missing", "describe inputs and outputs in it")
            )
            continue
        doc, parse_errors = _load(found[0], root, docs)
        errors.extend(parse_errors)
        config = _parse_transformation(doc, errors) if doc else None
        sql_files = _read_sql(path, root, errors)
        if config is not None and config.type == "sql" and not any(path.glob("*.sql")):
            errors.append(
                ProjectError(rel, None, "", "no .sql files", "add files such as 10_orders.sql; they run in name order")
            )
        if config is not None:
            project.transformations[path.name] = Transformation(path.name, config, sql_files)
            project.files[f"transformation:{path.name}"] = found[0].relative_to(root).as_posix()
            project.broken.discard(f"transformation:{path.name}")


def _read_sql(folder: Path, root: Path, errors: list[ProjectError]) -> list[SqlFile]:
    """The folder's ``*.sql`` files in name order; an unreadable one is an error, not a traceback."""
    files = []
    for path in sorted(folder.glob("*.sql")):
        text, error = read_project_text(path, root, MAX_SQL_BYTES)
        if error is not None:
            errors.append(error)
        elif text is not None:
            files.append(SqlFile(path.name, text))
    return files


def _load_list(
    root: Path,
    project: Project,
    errors: list[ProjectError],
    key: str,
    model: type[Datamart] | type[Orchestration],
    target: dict[str, Any],
    kind: str,
    docs: dict[str, Document],
) -> None:
    """``datamarts.yaml`` / ``orchestrations.yaml``: each item is checked on its own, so one bad
    item neither hides the others nor makes every reference to the file's ids an error."""
    if not _find(root, key):
        return
    doc = _single(root, key, errors, required=False, docs=docs)
    if doc is None:  # unreadable: _single reported why
        project.broken.add(f"{kind}:*")
        return
    data = doc.data
    if data is None:
        return
    if not isinstance(data, dict) or not isinstance(data.get(key, []), list) or set(data) - {key}:
        project.broken.add(f"{kind}:*")
        if isinstance(data, dict) and set(data) - {key}:
            extra = sorted(set(data) - {key})[0]
            error = ProjectError(doc.file, doc.line_of((extra,)), str(extra), "unknown key", f"allowed keys: {key}")
        elif isinstance(data, dict):
            error = ProjectError(doc.file, doc.line_of((key,)), key, "expected a list", "write '- id: ...' items")
        else:
            error = ProjectError(doc.file, 1, "", f"expected a mapping with a {key}: list", "see `headrace schema`")
        errors.append(error)
        return
    project.files[key] = doc.file
    for index, item in enumerate(data.get(key, [])):
        try:
            parsed = model.model_validate(item)
        except ValidationError as exc:
            errors.extend(project_errors(doc, exc, prefix=(key, index)))
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                project.broken.add(f"{kind}:{item['id']}")
            continue
        if parsed.id in target:
            loc = (key, index, "id")
            errors.append(
                ProjectError(
                    doc.file,
                    doc.line_of(loc),
                    f"{key}[{index}].id",
                    f"duplicate id {parsed.id!r}",
                    "ids must be unique",
                )
            )
            continue
        target[parsed.id] = parsed
        project.positions[f"{kind}:{parsed.id}"] = index


def _parse_project(doc: Document, errors: list[ProjectError]) -> Any:
    """``project.yaml`` with the deployment file's blocks laid over it (``headrace.project.deployment``)."""
    model = project_config_model()
    data, _, deployment_errors = apply_deployment(doc.data, model)
    errors.extend(deployment_errors)
    return _parse(Document(doc.file, data, doc.lines), model, errors)


def load_project(root: Path) -> Project:
    """Parse and check the whole project; raise ``ProjectInvalid`` with every error found."""
    from headrace.project.checks import check_project

    root = root.resolve()
    errors: list[ProjectError] = []
    if not root.is_dir():
        raise ProjectInvalid([ProjectError(str(root), None, "", "not a folder", "give the project's folder")])
    for rel, real in links_out(root):  # also those no project file names: dags/, data/ ...
        message = f"{rel!r} leads out of the project folder through a symlink (to {real})"
        errors.append(ProjectError(rel, None, "", message, OUTSIDE_HINT))
    docs: dict[str, Document] = {}  # every file parsed once; the cross-file checks reuse them
    doc = _single(root, "project", errors, required=True, docs=docs)
    config = _parse_project(doc, errors) if doc else None
    project = Project(root, config or ProjectConfig(name="invalid"))
    _load_extractors(root, project, errors, docs)
    _load_transformations(root, project, errors, docs)
    _load_list(root, project, errors, "datamarts", Datamart, project.datamarts, "datamart", docs)
    _load_list(root, project, errors, "orchestrations", Orchestration, project.orchestrations, "orchestration", docs)
    if config is not None:
        errors.extend(check_project(project, _documents(root, docs)))
    if errors:
        raise ProjectInvalid(errors)
    return project


def _documents(root: Path, parsed: dict[str, Document]) -> dict[str, Document]:
    """Documents for line numbers of cross-file errors: those parsed already, and any other project file.

    Parsing each file once matters at scale: re-reading them doubled the time of
    ``headrace validate`` on a project of 1,000 components.
    """
    docs: dict[str, Document] = {}
    for pattern in ("*.yaml", "*.yml", "*.json", "extractors/*", "transformations/*/transformation.*"):
        for path in root.glob(pattern):
            # hidden files are no project files (.secrets.yaml holds secrets: never parsed here)
            if path.suffix in SUFFIXES and path.is_file() and not path.name.startswith("."):
                doc = parsed.get(path.relative_to(root).as_posix()) or load_document(path, root)[0]
                if doc:
                    docs[doc.file] = doc
    return docs
