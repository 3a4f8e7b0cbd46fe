"""Read one project file as text within the loader's limits.

A project file must be a regular file inside the project folder (symlinks resolved), at
most ``MAX_YAML_BYTES`` (YAML/JSON) or ``MAX_SQL_BYTES`` (SQL), UTF-8 (a UTF-8 byte-order
mark is dropped) and free of NUL bytes. Each violation is one ``ProjectError`` naming the
file, the line where known and the fix; nothing here raises for bad input.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from headrace.errors import ProjectError
from headrace.project.confine import OUTSIDE_HINT, OutsideProject, resolve_inside

MAX_YAML_BYTES = 1024 * 1024  # YAML and JSON: a large project's biggest file is a few kB
MAX_SQL_BYTES = 8 * 1024 * 1024  # SQL: generated statements can be long


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, rel: str) -> tuple[str | None, ProjectError | None]:
    """``data`` as text, or the error that says why it is not UTF-8 text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, ProjectError(rel, 1, "", "saved as UTF-16", "save the file as UTF-8")
    data = data.removeprefix(codecs.BOM_UTF8)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = _line(data, nul)
        return None, ProjectError(
            rel, line, "", f"contains a NUL byte at line {line}", "project files are text: remove it"
        )
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = _line(data, exc.start)
        message = f"not UTF-8 at line {line} (byte 0x{data[exc.start]:02x})"
        return None, ProjectError(rel, line, "", message, "save the file as UTF-8")


def read_project_text(path: Path, root: Path, limit: int) -> tuple[str | None, ProjectError | None]:
    """The text of ``path`` (a file under ``root``, which the caller resolved), or one error.

    An unresolved ``root`` fails closed: files are then refused as outside it.
    """
    rel = path.relative_to(root).as_posix()
    try:
        real = resolve_inside(root, rel, root_is_real=True)
        info = os.stat(real)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            return None, ProjectError(rel, None, "", f"is {kind}", "a project file must be a plain file")
        if info.st_size > limit:
            return None, _too_large(rel, info.st_size, limit)
        with open(real, "rb") as handle:
            data = handle.read(limit + 1)
    except OutsideProject as exc:
        return None, ProjectError(rel, None, "", str(exc), OUTSIDE_HINT)
    except OSError as exc:
        return None, ProjectError(rel, None, "", f"cannot be read ({exc.strerror})", "check the file's permissions")
    if len(data) > limit:
        return None, _too_large(rel, len(data), limit)
    return decode(data, rel)


def _too_large(rel: str, size: int, limit: int) -> ProjectError:
    message = f"is {size:,} bytes; a project file of this kind may have at most {limit:,}"
    return ProjectError(rel, None, "", message, "split it into smaller files")
