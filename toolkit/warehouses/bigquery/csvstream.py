"""A stored part as the CSV a load job uploads when BigQuery cannot read the storage itself.

The part is decompressed while read (never whole in memory) and rewritten record by record:

- each record starts with its sequence number (``_hr_seq``: part number * 10**9 + record number,
  the header being record 1), so a merge keeps the last row of a key, and an error names the line;
- each record is one line: a line end inside a quoted field becomes ``¶n``, a carriage return
  ``¶r`` and ``¶`` itself ``¶e``. The load's SQL turns them back (``decoded``), so no value
  changes, and the upload never depends on the loader's quoted-newline support (crucible has none).

Records are found by the parity of quotes (RFC 4180: a quote inside a field is doubled), so
nothing is parsed field by field: quoted empty fields (``""``) and empty ones (NULL) pass as
they are. Fields are counted only after a load failed (``wrong_field_count_line``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import ExitStack

from headrace.storage.base import Storage
from headrace.warehouses.base import StoredPart
from headrace.warehouses.common import parts

SEQ = "_hr_seq"
PART_STRIDE = 10**9  # records per part, at most
MARK = "¶"
_MARK = MARK.encode()
_ENCODED = {b"\n": _MARK + b"n", b"\r": _MARK + b"r"}


def decoded(sql_value: str) -> str:
    """SQL undoing the line-end encoding of a streamed value (exact: every ``¶`` starts an escape)."""
    inner = f"REPLACE(REPLACE({sql_value}, '{MARK}n', '\\n'), '{MARK}r', '\\r')"
    return f"REPLACE({inner}, '{MARK}e', '{MARK}')"


def seq_of(part_index: int, record: int) -> int:
    return part_index * PART_STRIDE + record


def where(seq: int) -> tuple[int, int]:
    """(part index, record number) of a sequence number."""
    return divmod(seq, PART_STRIDE)


def _records(storage: Storage, part: StoredPart, part_index: int) -> Iterator[bytes]:
    """Chunks of the rewritten part."""
    with ExitStack() as stack:
        try:
            stream = stack.enter_context(parts.open_csv(storage, part))
        except FileNotFoundError as exc:
            raise parts.unreadable(storage, part, exc) from None
        in_quotes = False
        record = 0
        at_start = True
        pending = b""
        while True:
            try:
                chunk = stream.read(parts.CHUNK)
            except (OSError, EOFError) as exc:
                raise parts.unreadable(storage, part, exc) from None
            except Exception as exc:  # zlib.error
                raise parts.unreadable(storage, part, exc) from None
            if not chunk:
                break
            chunk = pending + chunk
            # keep a cut multi-byte mark for the next chunk
            pending = b""
            if chunk.endswith(_MARK[:1]):
                chunk, pending = chunk[:-1], chunk[-1:]
            chunk = chunk.replace(_MARK, _MARK + b"e").replace(b"\r", _ENCODED[b"\r"])
            out: list[bytes] = []
            pieces = chunk.split(b"\n")
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                if at_start and (piece or not last):
                    record += 1
                    out.append(SEQ.encode() + b"," if record == 1 else f"{seq_of(part_index, record)},".encode())
                    at_start = False
                out.append(piece)
                in_quotes ^= piece.count(b'"') % 2 == 1
                if not last:
                    if in_quotes:
                        out.append(_ENCODED[b"\n"])
                    else:
                        out.append(b"\n")
                        at_start = True
            yield b"".join(out)
        if pending:
            yield pending


class SequencedPart(io.RawIOBase):
    """A file object over ``_records`` for ``load_table_from_file``: ``read(n)`` returns n bytes
    until the end (the upload takes a short read for the last chunk), ``tell``; no seek."""

    def __init__(self, storage: Storage, part: StoredPart, part_index: int):
        self._chunks = _records(storage, part, part_index)
        self._buffer = bytearray()
        self._position = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        while not self._done and (size is None or size < 0 or len(self._buffer) < size):
            chunk = next(self._chunks, None)
            if chunk is None:
                self._done = True
            else:
                self._buffer += chunk
        n = len(self._buffer) if size is None or size < 0 else min(size, len(self._buffer))
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        self._position += n
        return out

    def readinto(self, target: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self._position


def wrong_field_count_line(storage: Storage, part: StoredPart) -> int | None:
    """The physical line where the first record with another number of fields than the header starts."""
    try:
        with parts.open_csv(storage, part) as stream, io.TextIOWrapper(stream, "utf-8", "replace", newline="") as text:
            reader = csv.reader(text)
            width = None
            start = 1
            for row in reader:
                if width is None:
                    width = len(row)
                elif len(row) != width:
                    return start
                start = reader.line_num + 1
    except (OSError, EOFError, csv.Error):
        return None
    return None
