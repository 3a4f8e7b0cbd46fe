"""The table file contract between extract and load (DESIGN §4).

A table extracted in one run is a folder: ``part-NNNNN.<format>`` files and ``schema.json``
naming the columns, their portable types and the part format (``headrace.partformats``). CSV
parts are UTF-8, RFC 4180, comma, ``"`` quoting, header row, ``\\n`` line ends; an unquoted
empty field is NULL, a quoted empty field ``""`` is the empty string; gzip, zstd or plain.
``TableWriter`` produces such a folder on local disk.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from headrace import partformats
from headrace.types import parse_type

SCHEMA_FILE = "schema.json"
# columns the warehouse adds to every loaded table (_headrace_loaded_at, _headrace_run_id) and uses
# while loading (_headrace_seq, _headrace_batch) start with this: a table's own columns may not
RESERVED_PREFIX = "_headrace_"
PART_BYTES = 256 * 1024 * 1024  # uncompressed bytes per part before a new one starts
_BUFFER = 1024 * 1024  # chunks from a driver are tiny; batch them before gzip
PGCOPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"  # then flags, header extension length, tuples, trailer -1


@dataclass
class Column:
    name: str
    type: str
    nullable: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "nullable": self.nullable}


@dataclass
class TableSchema:
    columns: list[Column]
    parts: list[str] = field(default_factory=list)
    rows: int | None = None
    bytes: int = 0
    part_format: str = partformats.DEFAULT

    @property
    def format(self) -> str:
        """``csv`` or ``pgcopy``."""
        return partformats.FORMATS[self.part_format][0]

    def to_json(self) -> dict[str, Any]:
        fmt, compression = partformats.FORMATS[self.part_format]
        return {
            "format": fmt,
            "compression": compression,
            "columns": [c.to_json() for c in self.columns],
            "parts": self.parts,
            "rows": self.rows,
            "bytes": self.bytes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableSchema:
        columns = [Column(c["name"], str(parse_type(c["type"])), c.get("nullable", True)) for c in data["columns"]]
        part_format = partformats.of_schema(data.get("format", "csv"), data.get("compression", "gzip"))
        return cls(columns, list(data.get("parts", [])), data.get("rows"), int(data.get("bytes", 0)), part_format)


def reserved_columns(names: list[str]) -> list[str]:
    """The names among ``names`` that collide with Headrace's own columns (any case: DuckDB ignores it)."""
    return [n for n in names if n.lower().startswith(RESERVED_PREFIX)]


def open_compressed(path: Path, compression: str) -> IO[bytes]:
    """A file writing ``compression`` (``gzip`` level 1, ``zstd`` level 1, ``none``) to ``path``.

    Both compressors release the GIL while they work, so a thread per stream compresses in parallel."""
    if compression == "gzip":
        return cast(IO[bytes], gzip.GzipFile(path, "wb", compresslevel=1, mtime=0))
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=1).stream_writer(path.open("wb"), closefd=True)  # type: ignore[return-value]
    return path.open("wb")


def csv_field(text: str) -> str:
    """One CSV field of the contract, quoted where needed (an empty string is ``""``)."""
    if text == "" or any(ch in text for ch in ',"\n\r') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


class TableWriter:
    """Writes one table's parts and ``schema.json`` into ``folder``.

    Two ways in, both streaming: ``write_csv`` (chunks of contract-conforming CSV without
    header that end on a row boundary, e.g. from ``COPY ... TO STDOUT``), or ``adopt_part``
    (a finished part in the writer's ``part_format``, with its header, e.g. written by DuckDB or
    by a parallel range reader; ``header()`` is the header such a CSV part starts with).
    """

    def __init__(
        self, folder: Path, columns: list[Column], part_bytes: int = PART_BYTES, part_format: str = partformats.DEFAULT
    ):
        if part_format not in partformats.FORMATS:
            raise ValueError(f"unknown part format {part_format!r}")
        self.folder = folder
        self.columns = columns
        self.part_bytes = part_bytes
        self.part_format = part_format
        self.schema = TableSchema(columns, rows=0, part_format=part_format)
        self._file: IO[bytes] | None = None
        self._part_size = 0
        self._buffer: list[bytes] = []
        self._buffered = 0
        folder.mkdir(parents=True, exist_ok=True)

    def header(self) -> bytes:
        return (",".join(csv_field(c.name) for c in self.columns) + "\n").encode()

    def _open_part(self) -> IO[bytes]:
        if not partformats.is_csv(self.part_format):
            raise ValueError(f"{self.part_format} parts are adopted whole (adopt_part), not written as CSV")
        name = partformats.part_name(len(self.schema.parts), self.part_format)
        self.schema.parts.append(name)
        self._file = open_compressed(self.folder / name, partformats.compression(self.part_format))
        self._file.write(self.header())
        self._part_size = 0
        return self._file

    def _flush(self) -> None:
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._buffer, self._buffered = [], 0
        out = self._file or self._open_part()
        out.write(data)
        self._part_size += len(data)
        self.schema.bytes += len(data)
        if self._part_size >= self.part_bytes:
            out.close()
            self._file = None

    def write_csv(self, chunk: bytes, rows: int | None = None) -> None:
        self._buffer.append(chunk)
        self._buffered += len(chunk)
        if rows is not None and self.schema.rows is not None:
            self.schema.rows += rows
        elif rows is None:
            self.schema.rows = None
        if self._buffered >= _BUFFER:
            self._flush()

    def adopt_part(self, path: Path, rows: int | None, size: int = 0) -> None:
        self._flush()
        if self._file:
            self._file.close()
            self._file = None
        name = partformats.part_name(len(self.schema.parts), self.part_format)
        path.replace(self.folder / name)
        self.schema.parts.append(name)
        self.schema.bytes += size
        if rows is None or self.schema.rows is None:
            self.schema.rows = None
        else:
            self.schema.rows += rows

    def close(self) -> TableSchema:
        self._flush()
        if self._file:
            self._file.close()
            self._file = None
        if not self.schema.parts:  # an empty table still has one part (a CSV header, an empty COPY)
            if partformats.is_csv(self.part_format):
                self._open_part().close()
            else:
                name = partformats.part_name(0, self.part_format)
                with open_compressed(self.folder / name, partformats.compression(self.part_format)) as out:
                    out.write(PGCOPY_SIGNATURE + b"\x00" * 8 + b"\xff\xff")
                self.schema.parts.append(name)
            self._file = None
        (self.folder / SCHEMA_FILE).write_text(json.dumps(self.schema.to_json(), indent=2) + "\n")
        return self.schema
