"""Project paths stay inside the project folder, with ``..`` and every symlink resolved first.

Used by the loader (each project file it reads), by ``headrace validate`` (paths written in
the project, such as a file extractor's ``path``) and again when a task runs, because the
folder a task sees can differ from the one that was validated. The operating system's
``realpath`` decides, never a pattern on the text of the path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel


class OutsideProject(ValueError):
    """A path that is, or leads through a symlink, outside the project folder."""


def is_inside(root: Path, path: Path) -> bool:
    """True when ``path`` (already resolved) is ``root`` or under it."""
    return os.path.commonpath([str(root), str(path)]) == str(root)


def resolve_inside(root: Path, location: str | Path, root_is_real: bool = False) -> Path:
    """The real path of ``location`` (relative to ``root``, or absolute inside it); ``OutsideProject`` otherwise.

    ``root_is_real``: the caller resolved ``root`` already (the loader does, once per project).
    """
    text = str(location)
    if "\x00" in text:
        raise OutsideProject(f"{text!r} contains a NUL character")
    real_root = root if root_is_real else Path(os.path.realpath(root))
    candidate = Path(text)
    joined = candidate if candidate.is_absolute() else real_root / candidate
    if not is_inside(real_root, Path(os.path.normpath(joined))):
        raise OutsideProject(f"{text!r} is outside the project folder")
    real = Path(os.path.realpath(joined))
    if not is_inside(real_root, real):
        raise OutsideProject(f"{text!r} leads out of the project folder through a symlink (to {real})")
    return real


OUTSIDE_HINT = "Headrace reads only files inside the project folder: copy the file into the project, not a link"


class _Marker:
    """Marks a config field that ``headrace validate`` checks: ``Annotated[str | None, PROJECT_PATH]``."""

    def __init__(self, what: str):
        self.what = what


PROJECT_PATH = _Marker("a file in the project")
PROJECT_URL = _Marker("a URL the platform fetches")


def marked_values(
    model: BaseModel, marker: _Marker, loc: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every (key path, value) of a field marked ``marker`` in ``model`` and the models it holds."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        key = (*loc, info.alias or name)
        if isinstance(value, str) and any(m is marker for m in info.metadata):
            yield key, value
        elif isinstance(value, BaseModel):
            yield from marked_values(value, marker, key)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from marked_values(item, marker, (*key, index))


# Not part of the project's content: git's own files, local state, caches, the local secrets file
# (which may well be a link to a file kept elsewhere).
NOT_PROJECT = {".git", ".headrace", ".secrets.yaml", "__pycache__", ".venv", ".pytest_cache"}


def links_out(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative name, target) of every symlink under the resolved ``root`` that leads out of it.

    Links are never followed while walking, so a link to ``/`` costs one check, not a walk of ``/``.
    """
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in NOT_PROJECT]
        for name in [*dirs, *files]:
            path = Path(folder, name)
            if name in NOT_PROJECT or not path.is_symlink():
                continue
            real = Path(os.path.realpath(path))
            if not is_inside(root, real):
                yield path.relative_to(root).as_posix(), real
