"""How a table's parts are encoded in storage (DESIGN §4): the format each warehouse loads fastest.

A part format is a name such as ``csv.zst``: the part files end with it (``part-00000.csv.zst``)
and ``schema.json`` records it as ``format`` + ``compression``. Every format keeps the table file
contract's values; they differ in bytes on disk and in what it costs to write and to load them:

- ``csv.gz``: CSV, gzip (level 1). Every loader reads it; BigQuery needs it (its CSV loads read
  gzip or nothing). The slowest to write.
- ``csv.zst``: CSV, zstd (level 1): several times cheaper to write than gzip and a little smaller;
  DuckDB and Snowflake read it natively, the others decompress while streaming.
- ``csv``: plain CSV, for local storage where compressing costs more than the disk it saves.
- ``pgcopy`` / ``pgcopy.zst``: PostgreSQL's binary COPY format, written by the ``postgres``
  extractor with every column cast to the type the PostgreSQL warehouse creates for its portable
  type; loaded with ``COPY ... FROM STDIN (FORMAT binary)``: no text is parsed at either end.
  Only the PostgreSQL warehouse reads it.

``choose`` picks the format at compile time from the warehouse's preference (its capabilities'
``part_formats``, or ``local_part_formats`` when the project's storage is local) and what the
extractor can write; the manifest records it (``ExtractorTask.part_format``).
"""

from __future__ import annotations

from typing import Literal

PartFormat = Literal["csv.gz", "csv.zst", "csv", "pgcopy", "pgcopy.zst"]
DEFAULT: PartFormat = "csv.gz"
# format name -> (format, compression) as ``schema.json`` records them
FORMATS: dict[str, tuple[str, str]] = {
    "csv.gz": ("csv", "gzip"),
    "csv.zst": ("csv", "zstd"),
    "csv": ("csv", "none"),
    "pgcopy": ("pgcopy", "none"),
    "pgcopy.zst": ("pgcopy", "zstd"),
}
# the longest suffix first: ``.pgcopy.zst`` before ``.zst``
_BY_SUFFIX = sorted(FORMATS, key=len, reverse=True)


def part_name(index: int, part_format: str) -> str:
    """``part-00003.csv.zst``."""
    return f"part-{index:05d}.{part_format}"


def of_name(name: str) -> str | None:
    """The part format a file name ends with, or None (``part-00000.csv.gz`` -> ``csv.gz``)."""
    for fmt in _BY_SUFFIX:
        if name.endswith("." + fmt):
            return fmt
    return None


def of_schema(format_: str, compression: str) -> str:
    """The part format ``schema.json``'s ``format`` and ``compression`` name (``csv``, ``gzip`` -> ``csv.gz``)."""
    for name, pair in FORMATS.items():
        if pair == (format_, compression):
            return name
    raise ValueError(f"unknown table file format {format_!r} with compression {compression!r}")


def compression(part_format: str) -> str:
    """``gzip``, ``zstd`` or ``none``."""
    return FORMATS[part_format][1]


def is_csv(part_format: str) -> bool:
    return FORMATS[part_format][0] == "csv"


def choose(warehouse_prefers: tuple[str, ...], extractor_writes: tuple[str, ...]) -> str:
    """The first format the warehouse prefers that the extractor can write (``csv.gz`` when none is)."""
    return next((f for f in warehouse_prefers if f in extractor_writes), DEFAULT)
