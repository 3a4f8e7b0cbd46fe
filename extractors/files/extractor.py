"""The ``file`` extractor: CSV or JSON Lines with declared column types.

DuckDB reads the source and writes the contract's gzip CSV parts, streaming with a
memory limit. CSV columns are matched by header name, never by position, so a file
whose columns moved still loads the right values (or fails saying which is missing).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import time
from pathlib import Path
from typing import Any

from headrace import partformats, progress
from headrace.components.extractor import ExtractContext
from headrace.errors import TaskFailed
from headrace.extractors.files.config import FileExtractorConfig, FileTable
from headrace.extractors.files.source import local_source
from headrace.sqltext import ident, literal
from headrace.tablefiles import Column, TableSchema, TableWriter
from headrace.typemaps import duckdb_type
from headrace.types import parse_type

Config = FileExtractorConfig


def _lit(value: str) -> str:
    return literal(value, "duckdb")


def _quote(name: str) -> str:
    return ident(name, "duckdb")


def _header(path: Path, compression: str, table: FileTable) -> list[str]:
    opener = gzip.open if compression == "gzip" else open
    with opener(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=table.csv.encoding, newline="")
        first = next(csv.reader(text, delimiter=table.csv.delimiter, quotechar=table.csv.quote), None)
    if not first:
        raise TaskFailed(f"{table.location()}: the file is empty (expected a header row)")
    if first[0].startswith(codecs.BOM_UTF8.decode()):
        first[0] = first[0][1:]
    return first


def _output_expr(name: str, portable: str, source: str) -> str:
    kind = parse_type(portable).name
    if kind == "bytes":
        return f"'\\x' || lower(hex(CAST({source} AS BLOB))) AS {_quote(name)}"
    if kind == "json":
        return f"CAST({source} AS VARCHAR) AS {_quote(name)}"
    if kind == "string":
        return f"{source} AS {_quote(name)}"
    return f"CAST({source} AS {duckdb_type(portable)}) AS {_quote(name)}"


class Extractor:
    def __init__(self, config: FileExtractorConfig, context: ExtractContext):
        self.config = config
        self.context = context

    def _relation(self, table: FileTable, path: Path, compression: str) -> str:
        if table.source_format() == "jsonl":
            columns = {n: ("JSON" if parse_type(t).name == "json" else "VARCHAR") for n, t in table.columns.items()}
            cols = "{" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in columns.items()) + "}"
            return (
                f"read_json({_lit(str(path))}, format = 'newline_delimited', columns = {cols}, "
                f"compression = {_lit('gzip' if compression == 'gzip' else 'none')})"
            )
        opts = table.csv
        if opts.header:
            names = _header(path, compression, table)
            missing = [c for c in table.columns if c not in names]
            if missing:
                raise TaskFailed(
                    f"{table.location()}: column(s) {', '.join(missing)} declared for table {table.name!r} "
                    f"are not in the file's header ({', '.join(names)})"
                )
        else:
            names = list(table.columns)
        if len(set(names)) != len(names):
            raise TaskFailed(f"{table.location()}: the header names a column twice ({', '.join(names)})")
        cols = "{" + ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in names) + "}"
        encoding = {"utf-8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}[opts.encoding]
        return (
            f"read_csv({_lit(str(path))}, header = {str(opts.header).lower()}, auto_detect = false, "
            f"columns = {cols}, delim = {_lit(opts.delimiter)}, quote = {_lit(opts.quote)}, "
            f"escape = {_lit(opts.escape)}, nullstr = {_lit(opts.null)}, allow_quoted_nulls = false, "
            f"encoding = {_lit(encoding)}, compression = {_lit('gzip' if compression == 'gzip' else 'none')}, "
            "strict_mode = true)"
        )

    def _report(self, name: str, con: Any, elapsed: float) -> None:
        done = con.query_progress()
        if done >= 0:
            self.context.log(f"{name}: {done:.0f}% read after {elapsed:.0f} s")

    def extract(self, table: FileTable, folder: Path) -> tuple[TableSchema, dict[str, Any]]:
        import duckdb

        columns = [Column(name, portable) for name, portable in table.columns.items()]
        writer = TableWriter(folder, columns, part_format=self.context.part_format)
        codec = partformats.compression(self.context.part_format)
        started = time.monotonic()
        with local_source(
            table.location(),
            table.url is not None,
            self.context.project_dir,
            table.source_compression(),
            table.member,
            table.headers,
            folder.parent / f".{folder.name}.source",
            self.context.allow_urls_to,
        ) as (path, compression):
            con = duckdb.connect()
            try:
                con.execute("SET memory_limit = '1GB'; SET TimeZone = 'UTC'; SET preserve_insertion_order = true")
                con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
                select = ", ".join(_output_expr(n, t, _quote(n)) for n, t in table.columns.items())
                out = folder / ".parts"
                copy = (
                    f"COPY (SELECT {select} FROM {self._relation(table, path, compression)}) TO {_lit(str(out))} "
                    f"(FORMAT csv, HEADER true, COMPRESSION {codec}, FILE_SIZE_BYTES '256MB', "
                    "FILENAME_PATTERN 'part-{i}', OVERWRITE true)"
                )
                with progress.every(progress.INTERVAL_S, lambda s: self._report(table.name, con, s)):
                    counted = con.execute(copy).fetchone()  # COPY returns one row: the rows written
                    rows = counted[0] if counted else 0
            except duckdb.Error as exc:
                raise TaskFailed(f"{table.location()}: {str(exc).splitlines()[0]}") from exc
            finally:
                con.close()
        parts = sorted(out.glob("part-*"), key=lambda p: int(p.name.split("-")[1].split(".")[0]))
        for index, part in enumerate(parts):
            writer.adopt_part(part, rows if index == 0 else 0, part.stat().st_size)
        out.rmdir()
        schema = writer.close()
        elapsed = max(time.monotonic() - started, 1e-6)
        self.context.log(f"{table.name}: {rows:,} rows extracted ({rows / elapsed:,.0f} rows/s)")
        return schema, {}
