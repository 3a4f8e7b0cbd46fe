"""What a container wrote to ``/data/out/tables``, checked before anything is stored or loaded.

A container is untrusted code: its output folder may hold links out of it, tables nobody
declared, a ``schema.json`` that does not describe its parts. Every declared table is checked
in full (streamed, part by part: header, field count of every row, UTF-8) and only then does
anything leave this machine; the first problem is an error naming the component's file, the
table and what to fix. Plain ``.csv`` parts are gzipped here, so what is stored is the table
file contract of ``headrace.tablefiles`` exactly, with a ``schema.json`` Headrace wrote.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import stat
import zlib
from pathlib import Path
from typing import Any

from headrace import partformats
from headrace.errors import TaskFailed
from headrace.tablefiles import RESERVED_PREFIX, SCHEMA_FILE, Column, TableSchema
from headrace.types import parse_type

PART_SUFFIXES = (".csv.gz", ".csv")
CONTRACT = "the contract: docs/components.md"


class OutputRefused(TaskFailed):
    """What the container wrote breaks the contract: nothing of this run is loaded."""


def _refuse(file: str, what: str, fix: str) -> OutputRefused:
    return OutputRefused(f"{file}: {what}; nothing was loaded ({fix}; {CONTRACT})")


def _check_tree(out: Path, file: str) -> None:
    """Only plain folders and regular files, none linked: nothing read later leads out of ``out``."""
    for dirpath, dirnames, filenames in os.walk(out, followlinks=False):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            mode = os.lstat(path).st_mode
            rel = path.relative_to(out).as_posix()
            if stat.S_ISLNK(mode):
                raise _refuse(file, f"/data/out/{rel} is a symbolic link", "write regular files, not links")
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise _refuse(file, f"/data/out/{rel} is not a regular file", "write regular files only")


def _schema(folder: Path, file: str, table: str) -> tuple[list[Column], list[str]]:
    where = f"/data/out/tables/{table}/{SCHEMA_FILE}"
    path = folder / SCHEMA_FILE
    if not path.is_file():
        raise _refuse(file, f"table {table!r} has no {where}", "write the columns and their types to it")
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(file, f"table {table!r}: {where} is not JSON ({exc})", "write valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), list) or not data["columns"]:
        raise _refuse(
            file, f"table {table!r}: {where} has no columns list", 'write {"columns": [{"name": ..., "type": ...}]}'
        )
    columns: list[Column] = []
    seen: set[str] = set()
    for index, entry in enumerate(data["columns"]):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or "\x00" in name:
            raise _refuse(file, f"table {table!r}: {where}: columns[{index}] has no name", "name every column")
        try:
            kind = str(parse_type(str(entry.get("type", ""))))
        except ValueError as exc:
            raise _refuse(file, f"table {table!r}: {where}: column {name!r}: {exc}", "use a portable type") from None
        if name.lower().startswith(RESERVED_PREFIX):
            raise _refuse(file, f"table {table!r}: column {name!r} collides with Headrace's own columns", "rename it")
        if name.lower() in seen:
            raise _refuse(file, f"table {table!r}: column {name!r} appears twice", "give each column its own name")
        seen.add(name.lower())
        columns.append(Column(name, kind, bool(entry.get("nullable", True))))
    parts = data.get("parts")
    present = sorted(p.name for p in folder.iterdir() if p.name != SCHEMA_FILE)
    if parts is None:
        parts = [p for p in present if p.endswith(PART_SUFFIXES)]
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise _refuse(file, f"table {table!r}: {where}: parts is not a list of file names", "list the part files")
    for part in parts:
        if "/" in part or part.startswith(".") or not part.endswith(PART_SUFFIXES):
            raise _refuse(
                file,
                f"table {table!r}: part {part!r} is not a .csv or .csv.gz file of the table's folder",
                "name part files such as part-00000.csv",
            )
        if part not in present:
            raise _refuse(
                file,
                f"table {table!r}: {where} lists {part!r}, which is not in the folder",
                "write the part or leave it out of parts",
            )
    extra = [p for p in present if p not in parts]
    other_format = next((p for p in extra if partformats.of_name(p) not in (None, "csv", "csv.gz")), None)
    if other_format:  # e.g. part-00000.csv.zst: Headrace writes zstd and pgcopy parts itself, containers do not
        raise _refuse(
            file,
            f"table {table!r}: {other_format!r} is a {partformats.of_name(other_format)} part; "
            "a container's parts are .csv or .csv.gz (they are stored gzipped)",
            "write the part as .csv or .csv.gz",
        )
    if extra:
        raise _refuse(
            file,
            f"table {table!r}: {extra[0]!r} is not a part listed in {SCHEMA_FILE}",
            "list it in parts or remove it",
        )
    return columns, parts


def _check_part(path: Path, columns: list[Column], file: str, table: str) -> int:
    """Rows of the part; an error naming the line where it stops matching the columns."""
    names = [c.name for c in columns]
    line = 0
    try:
        with gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            reader = csv.reader(text, strict=True)
            header = next(reader, None)
            if header != names:
                shown = ", ".join(header or []) or "nothing"
                raise _refuse(
                    file,
                    f"table {table!r}: {path.name} starts with the header ({shown}) but {SCHEMA_FILE} declares "
                    f"({', '.join(names)})",
                    "write the header row with the declared columns, in order",
                )
            rows = 0
            for row in reader:
                line = reader.line_num
                if len(row) != len(names):
                    raise _refuse(
                        file,
                        f"table {table!r}: line {line} of {path.name} has {len(row)} field(s), "
                        f"{SCHEMA_FILE} declares {len(names)} column(s)",
                        "write one field per declared column on every row",
                    )
                rows += 1
            return rows
    except (UnicodeDecodeError, csv.Error, OSError, EOFError, zlib.error) as exc:
        at = f" after line {line}" if line else ""
        raise _refuse(
            file, f"table {table!r}: {path.name} cannot be read as UTF-8 CSV{at} ({exc})", "write UTF-8 CSV (RFC 4180)"
        ) from None


def _gzipped(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    with path.open("rb") as src, gzip.GzipFile(target, "wb", compresslevel=1, mtime=0) as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    path.unlink()
    return target


def checked_tables(out: Path, declared: list[str], file: str) -> dict[str, Path]:
    """Each declared table's folder under ``out/tables``, checked and rewritten as the table file
    contract (gzip parts, Headrace's own ``schema.json``); ``OutputRefused`` at the first problem."""
    tables = out / "tables"
    if out.exists():
        _check_tree(out, file)
    found = sorted(p.name for p in tables.iterdir()) if tables.is_dir() else []
    undeclared = [name for name in found if name not in declared]
    if undeclared:
        raise _refuse(
            file,
            f"the container wrote /data/out/tables/{undeclared[0]}, a table it does not declare "
            f"(declared: {', '.join(declared)})",
            "declare the table in the component's file, or stop writing it",
        )
    missing = [name for name in declared if name not in found or not (tables / name).is_dir()]
    if missing:
        raise _refuse(
            file,
            f"the container did not write table {missing[0]!r} (/data/out/tables/{missing[0]}/)",
            "write every declared table, an empty one as a header-only part, or remove it from the declaration",
        )
    result: dict[str, Path] = {}
    for name in declared:
        folder = tables / name
        columns, parts = _schema(folder, file, name)
        rows, size, stored = 0, 0, []
        for part in parts:
            path = folder / part
            rows += _check_part(path, columns, file, name)
            size += path.stat().st_size
            stored.append((path if path.name.endswith(".gz") else _gzipped(path)).name)
        schema = TableSchema(columns, stored, rows, size)
        (folder / SCHEMA_FILE).write_text(json.dumps(schema.to_json(), indent=2) + "\n", encoding="utf-8")
        result[name] = folder
    return result
