"""Stored parts as the warehouses read them: their codec, a decompressed stream, and the
one-line error that names table, column, line and value when a value cannot be loaded.

Finding the line re-reads the part (streaming) only after a load failed, so a good load
never pays for it.
"""

from __future__ import annotations

import csv
import gzip
import io
import posixpath
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, cast

from headrace import partformats
from headrace.errors import TaskFailed
from headrace.storage.base import Storage
from headrace.warehouses.base import LoadRequest, StoredPart

CHUNK = 1024 * 1024
_SHOWN = 120  # characters of a bad value quoted in a message


def part_name(part: StoredPart) -> str:
    return posixpath.basename(part.key)


def part_format(part: StoredPart) -> str:
    """The part's format from its name (``headrace.partformats``): ``csv.gz``, ``csv.zst``, ``pgcopy``..."""
    found = partformats.of_name(part.key)
    if found is None:
        known = ", ".join("." + f for f in partformats.FORMATS)
        raise TaskFailed(f"{part.key}: unknown part format (expected one of {known})")
    return found


def codec(part: StoredPart) -> str:
    """How the part is compressed, from its name: ``gzip``, ``zstd`` or ``none``."""
    return partformats.compression(part_format(part))


def require_csv(request: LoadRequest, part: StoredPart, warehouse: str) -> str:
    """The part's format, when it is CSV; a ``pgcopy`` part raises ``TaskFailed`` naming table and part
    (compile never picks it for a warehouse other than PostgreSQL: a stored run of another project's)."""
    found = part_format(part)
    if not partformats.is_csv(found):
        raise TaskFailed(
            f"{request.schema}.{request.table}: {part.key} is a PostgreSQL binary COPY part ({found}), which only "
            f"the PostgreSQL warehouse loads, not {warehouse}; compile the project again and extract the table "
            "again, so its parts are written in a format this warehouse reads"
        )
    return found


@contextmanager
def open_csv(storage: Storage, part: StoredPart) -> Iterator[BinaryIO]:
    """The part's bytes (CSV, or PostgreSQL binary COPY for ``pgcopy`` parts), decompressed while
    read (never the whole part in memory)."""
    with storage.open(part.key) as raw:
        kind = codec(part)
        if kind == "gzip":
            with gzip.GzipFile(fileobj=raw, mode="rb") as plain:
                yield cast(BinaryIO, plain)
        elif kind == "zstd":
            import zstandard

            with zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True) as plain:
                yield cast(BinaryIO, plain)
        else:
            yield raw


def decode_errors(part: StoredPart) -> tuple[type[BaseException], ...]:
    """What reading the part raises when its bytes are cut short or corrupt."""
    if codec(part) == "zstd":
        import zstandard

        return (OSError, EOFError, zstandard.ZstdError)
    return (OSError, EOFError, zlib.error)


def copy_csv(storage: Storage, part: StoredPart, write: Callable[[bytes], object]) -> None:
    """Stream the part's CSV bytes into ``write`` in 1 MiB chunks; a part that cannot be read
    (missing, cut short, corrupt) raises ``TaskFailed`` naming it (errors of ``write`` pass as they are)."""
    try:
        with open_csv(storage, part) as stream:
            while True:
                try:
                    chunk = stream.read(CHUNK)
                except decode_errors(part) as exc:
                    raise unreadable(storage, part, exc) from None
                if not chunk:
                    return
                write(chunk)
    except FileNotFoundError as exc:
        raise unreadable(storage, part, exc) from None


def unreadable(storage: Storage, part: StoredPart, exc: BaseException) -> TaskFailed:
    return TaskFailed(
        f"{part.key}: cannot read the stored part from {storage.url}: {str(exc) or type(exc).__name__}; "
        "nothing of this run was loaded (extract the table again)"
    )


def find_line(
    storage: Storage, part: StoredPart, column: int, value: str | None, record: int | None = None
) -> int | None:
    """The line (1 = header) where a row starts: record number ``record`` (header = 1), or else the
    first row whose ``column`` (0-based) holds ``value``. None when the part has no such row."""
    try:
        with open_csv(storage, part) as stream, io.TextIOWrapper(stream, "utf-8", "replace", newline="") as text:
            reader = csv.reader(text)
            start = 1
            for number, row in enumerate(reader, start=1):
                if number == record or (record is None and number > 1 and column < len(row) and row[column] == value):
                    return start
                start = reader.line_num + 1
    except (OSError, EOFError, csv.Error, *decode_errors(part)):  # a broken part: the load's own error says enough
        return None
    return None


def shown(value: str) -> str:
    text = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
    return "'" + text.replace("\n", "\\n") + "'"


def bad_value(
    request: LoadRequest, part: StoredPart, line: int | None, column: str | None, value: str | None, why: str
) -> TaskFailed:
    """E.g. ``in_crm.events: column ts, line 2 of part-00000.csv.gz: '...' is not a valid timestamp_tz (why; ...)``."""
    where = f"line {line} of {part_name(part)}" if line else part_name(part)
    if column is None:
        return TaskFailed(
            f"{request.schema}.{request.table}: {where}: not a row of the table file contract "
            f"({why}; extract the table again)"
        )
    kind = next((c.type for c in request.files.columns if c.name == column), "value")
    what = f"{shown(value)} is not a valid {kind}" if value is not None else f"not a valid {kind}"
    return TaskFailed(
        f"{request.schema}.{request.table}: column {column}, {where}: {what} "
        f"({why}; fix or filter the row in the source, or exclude the column)"
    )
