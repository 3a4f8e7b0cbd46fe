"""The toy extractor: rows ``id, square, label`` for id 1..rows, through Headrace's ``TableWriter``.

Every tenth label is NULL and every seventh an empty string, so the table file contract's
NULL / empty-string distinction is exercised by a plugin Headrace has never seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from headrace.components.extractor import ExtractContext
from headrace.tablefiles import Column, TableSchema, TableWriter, csv_field

from headrace_toy.config import ToyExtractorConfig, ToyTable

COLUMNS = [Column("id", "integer"), Column("square", "integer"), Column("label", "string")]
BATCH = 10_000


def label(n: int) -> str | None:
    if n % 10 == 0:
        return None
    if n % 7 == 0:
        return ""
    return f"row {n}"


def line(n: int) -> str:
    text = label(n)
    return f"{n},{n * n},{'' if text is None else csv_field(text)}\n"


class ToyExtractor:
    def __init__(self, config: ToyExtractorConfig, context: ExtractContext) -> None:
        self.config = config
        self.context = context

    def extract(self, table: ToyTable, folder: Path) -> tuple[TableSchema, dict[str, Any]]:
        writer = TableWriter(folder, COLUMNS)
        for start in range(1, table.rows + 1, BATCH):
            stop = min(start + BATCH, table.rows + 1)
            writer.write_csv("".join(line(n) for n in range(start, stop)).encode(), stop - start)
        schema = writer.close()
        self.context.log(f"{table.name}: {table.rows:,} toy rows generated")
        return schema, {}
