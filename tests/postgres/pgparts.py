"""Stored parts made from a PostgreSQL source table, as the ``postgres`` extractor makes them:
binary COPY streams (``pgcopy``, ``pgcopy.zst``) of the columns cast to the warehouse's types,
or CSV (``csv.zst``), one part per id range; and a warehouse opened on the test server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import zstandard
from headrace.runner import stored_table
from headrace.storage.local import LocalStorage, LocalStorageConfig
from headrace.tablefiles import Column, TableWriter
from headrace.typemaps import pg_type
from headrace.warehouses.base import LoadRequest, Warehouse

from tests.helpers import open_test_warehouse
from tests.pgserver import PgServer, warehouse_block

COLUMNS = [
    Column("id", "integer"),
    Column("name", "string"),
    Column("amount", "decimal(38,9)"),
    Column("ratio", "float"),
    Column("flag", "boolean"),
    Column("day", "date"),
    Column("at", "timestamp"),
    Column("at_tz", "timestamp_tz"),
    Column("blob", "bytes"),
    Column("doc", "json"),
]
SELECT = ", ".join(f'"{c.name}"' for c in COLUMNS)


def make_source(con: Any, rows: int) -> None:
    """``public.src`` with every portable type: NULL and '' apart, BC dates and timestamps,
    38-digit decimals, bytea with zero bytes, nested json; every 97th row all NULL."""
    cols = ", ".join(f'"{c.name}" {pg_type(c.type)}' for c in COLUMNS)
    con.execute(f"CREATE TABLE public.src ({cols})")
    con.execute(
        f"""
        INSERT INTO public.src
        SELECT i,
               CASE WHEN i % 7 = 0 THEN '' WHEN i % 11 = 0 THEN NULL
                    ELSE 'row ' || i || E', "q"\\nnext line ü' END,
               (i::numeric * 1234567.891011121) * CASE WHEN i % 2 = 0 THEN -1 ELSE 1 END,
               i / 3.0::float8,
               i % 2 = 0,
               CASE WHEN i % 5 = 0 THEN '0044-03-15 BC'::date ELSE date '2024-01-01' + i END,
               CASE WHEN i % 5 = 0 THEN '0001-01-01 12:00:00 BC'::timestamp
                    ELSE timestamp '2024-01-01 00:00:00.123456' + i * interval '1 second' END,
               timestamptz '2024-06-30 23:59:59.999999+02' + i * interval '1 minute',
               CASE WHEN i % 3 = 0 THEN ''::bytea ELSE int8send(i) || '\\x00ff'::bytea END,
               jsonb_build_object('i', i, 'nested', jsonb_build_array(1, 'two', NULL))
        FROM generate_series(1, {rows}) AS i
        """
    )
    con.execute(f"INSERT INTO public.src (id) SELECT i FROM generate_series({rows + 1}, {rows + rows // 97}) AS i")


def source_rows(con: Any, table: str = "public.src") -> list[tuple[Any, ...]]:
    """Every value as PostgreSQL's text (Python has no BC dates), with its NULLs."""
    as_text = ", ".join(f'"{c.name}"::text' for c in COLUMNS)
    return con.execute(f"SELECT {as_text} FROM {table} ORDER BY id").fetchall()


def store(
    con: Any, storage: LocalStorage, tmp: Path, key: str, part_format: str, ranges: int, select: str = SELECT
) -> None:
    """The source table as ``ranges`` parts of ``part_format`` under ``key`` (with its schema.json);
    ``select`` the columns as the extractor casts them."""
    (low, high) = con.execute("SELECT min(id), max(id) + 1 FROM public.src").fetchone()
    step = -(-(high - low) // ranges)
    folder = tmp / key.replace("/", "_")
    folder.mkdir(parents=True)
    binary = part_format.startswith("pgcopy")
    writer = TableWriter(folder, COLUMNS, part_format=part_format)
    for n, start in enumerate(range(low, high, step)):
        where = f"WHERE id >= {start} AND id < {start + step}"
        options = "FORMAT binary" if binary else "FORMAT csv, HEADER"
        raw = tmp / f"{key.replace('/', '_')}.{n}"
        sql = f"COPY (SELECT {select} FROM public.src {where}) TO STDOUT ({options})"
        with raw.open("wb") as out, con.cursor().copy(sql) as copy:
            for chunk in copy:
                out.write(chunk)
        if part_format.endswith(".zst"):
            raw.write_bytes(zstandard.ZstdCompressor(level=1).compress(raw.read_bytes()))
        writer.adopt_part(raw, None, raw.stat().st_size)
    writer.close()
    storage.upload_folder(folder, key)


def request(storage: LocalStorage, key: str, table: str, mode: str, run_id: str) -> LoadRequest:
    files, parts = stored_table(storage, key)
    return LoadRequest("in_src", table, parts, files, mode, ["id"] if mode == "upsert" else [], run_id)


def local_storage(tmp: Path) -> LocalStorage:
    return LocalStorage(LocalStorageConfig(path=str(tmp / "bucket")), tmp)


def open_warehouse(server: PgServer, database: str, state_dir: Path, load_streams: int) -> Warehouse:
    block, env = warehouse_block(server, database)
    return open_test_warehouse({**block, "load_streams": load_streams}, state_dir, env)


def loaded(con: Any, table: str) -> list[tuple[Any, ...]]:
    return source_rows(con, f"in_src.{table}")


def stages(con: Any) -> list[tuple[str, str]]:
    """Every staging table left in the warehouse (committed ``_hr_stage_*`` tables)."""
    return con.execute(
        "SELECT n.nspname, c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE c.relname LIKE '\\_hr\\_stage\\_%' ORDER BY 1, 2"
    ).fetchall()
