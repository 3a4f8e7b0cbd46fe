"""Loads into Snowflake: each part to a stage, ``COPY INTO`` a session-private text table, then
one typed statement into the table.

- Parts get in one at a time: streamed from storage into a temporary internal stage with
  ``PUT`` (``file_stream=``; one part is spooled at a time, checked whole on the way, never a
  table), or, with a ``storage_integration`` and s3/gs/azure storage, read by ``COPY INTO``
  straight from the bucket (``copy_sql``). Each part's ``COPY`` fills ``_HEADRACE_RAW``, a
  temporary table of VARCHAR columns and an ``AUTOINCREMENT ORDER`` sequence (arrival order),
  with a file format that keeps NULL (unquoted empty field) apart from the empty string
  (``""``): ``FIELD_OPTIONALLY_ENCLOSED_BY = '"' EMPTY_FIELD_AS_NULL = TRUE NULL_IF = ()``.
- The typed statement converts every value with its column's type (``PARSE_JSON``,
  ``TO_BINARY(..., 'HEX')``, ``CAST``); a value it refuses is found with ``TRY_`` functions
  and reported with its part, line and column (``parts.bad_value``).

Snowflake commits DDL at once, so the order is chosen for kills at any point:

- ``full``: a transient staging table ``_hr_stage_<table>_<run>`` is filled, then
  ``ALTER TABLE ... SWAP WITH`` (atomic) replaces the table, then the ``table_loads`` row
  commits. A kill before the swap leaves the old table (and a staging table the sweep drops);
  a kill between the swap and the ``table_loads`` row leaves the new table without its history
  row, and a retry loads the same rows again (a full load is idempotent).
- ``append``, ``incremental``, ``upsert``: an empty table is created first if there is none
  (DDL), then the ``INSERT`` (or ``MERGE``), the incremental cursor and the ``table_loads``
  row commit in one transaction: a kill leaves none of them.
"""

from __future__ import annotations

import gzip
import re
import tempfile
import time
from typing import IO, TYPE_CHECKING, Any

from headrace import faults
from headrace.errors import TaskFailed
from headrace.lifecycle import owner_token
from headrace.storage.base import Storage
from headrace.types import parse_type
from headrace.warehouses.base import LOADED_AT, META, RUN_ID, LoadRequest, StoredPart
from headrace.warehouses.common import loads as common
from headrace.warehouses.common import parts
from headrace.warehouses.snowflake.names import qualified, quote

if TYPE_CHECKING:
    from headrace.warehouses.snowflake.warehouse import SnowflakeWarehouse

RAW = "_HEADRACE_RAW"
SEQ = '"_HEADRACE_SEQ"'
STAGE = "_HEADRACE_LOADS"  # a temporary internal stage: it goes with the session
SPOOL_MEMORY = 64 * 1024 * 1024  # a part above this spools to a temporary file while it is uploaded
STAGE_TTL_S = 24 * 3600  # a staging table older than this is a leftover, whoever made it
OWNER_COMMENT = re.compile(r"^headrace load owner=(?P<owner>\S*) expires=(?P<expires>\d+)$")
_LINE = re.compile(r"\bline (\d+)")  # Snowflake: "File '...', line 5, character 1" (a physical line)
_ROW = re.compile(r"\bRow (\d+)")  # Snowflake: "Row 3 starts at line 4" (data rows, header skipped)
_RECORD = re.compile(r"CSV Error on Line: (\d+)")  # the emulator (DuckDB): the record, header = 1


COMPRESSION = {"gzip": "GZIP", "zstd": "ZSTD", "none": "NONE"}  # a part's codec as COPY and PUT name it


def file_format(codec: str) -> str:
    compression = COMPRESSION[codec]
    return (
        "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1 FIELD_DELIMITER = ',' FIELD_OPTIONALLY_ENCLOSED_BY = '\"' "
        f"EMPTY_FIELD_AS_NULL = TRUE NULL_IF = () ESCAPE_UNENCLOSED_FIELD = NONE COMPRESSION = {compression})"
    )


def location(uri: str) -> str:
    """The URL COPY INTO reads a stored part from: ``s3://``, ``gcs://`` or ``azure://``."""
    if uri.startswith("gs://"):
        return "gcs://" + uri[len("gs://") :]
    if uri.startswith("az://"):  # az://account/container/key
        account, _, rest = uri[len("az://") :].partition("/")
        return f"azure://{account}.blob.core.windows.net/{rest}"
    if uri.startswith("https://") and ".blob.core.windows.net/" in uri:
        return "azure://" + uri[len("https://") :]
    return uri


def copy_sql(table: str, columns: list[str], source: str, codec: str, integration: str | None = None) -> str:
    """``COPY INTO`` of one part: from a stage path (``@...``) or, with ``integration``, a bucket URL."""
    where = f"'{source}' STORAGE_INTEGRATION = {quote(integration)}" if integration else source
    return (
        f"COPY INTO {table} ({', '.join(columns)}) FROM {where} {file_format(codec)} "
        "ON_ERROR = ABORT_STATEMENT FORCE = TRUE" + ("" if integration else " PURGE = TRUE")
    )


def conversion(column: str, portable: str, try_: bool = False) -> str:
    """SQL converting the text column ``column`` to ``portable``'s type (``TRY_``: NULL if it cannot)."""
    from headrace.typemaps import sql_type

    t = parse_type(portable)
    if t.name == "string":
        return column
    if t.name == "json":
        return f"{'TRY_' if try_ else ''}PARSE_JSON({column})"
    if t.name == "bytes":  # the contract writes bytes as \x<hex>
        return f"{'TRY_' if try_ else ''}TO_BINARY(SUBSTR({column}, 3), 'HEX')"
    return f"{'TRY_CAST' if try_ else 'CAST'}({column} AS {sql_type(portable, 'snowflake')})"


def _typed(request: LoadRequest) -> list[str]:
    return [f"{conversion(quote(c.name), c.type)} AS {quote(c.name)}" for c in request.files.columns]


def load(wh: SnowflakeWarehouse, request: LoadRequest, storage: Storage) -> int:
    wh.run(f"CREATE SCHEMA IF NOT EXISTS {quote(request.schema)}")
    if request.mode == "full":
        return _full(wh, request, storage)
    target = qualified(request.schema, request.table)
    if wh.table_exists(request.schema, request.table):
        wh.check_columns(request)
    else:  # DDL commits at once: an empty table now, its rows in the transaction below
        wh.run(f"CREATE TABLE IF NOT EXISTS {target} ({', '.join(_ddl(wh, request))})")
    _fill_raw(wh, request, storage)
    try:
        with wh.transaction():
            rows = _merge(wh, request, target) if request.merges else _append(wh, request, target)
            _bookkeeping(wh, request, rows)
            faults.point("load.before_commit")
    except Exception as exc:
        raise _explained(wh, exc, request, storage) from None
    faults.point("load.after_commit")
    wh.run(f"DROP TABLE IF EXISTS {RAW}")
    return rows


def _ddl(wh: SnowflakeWarehouse, request: LoadRequest) -> list[str]:
    cols = [f"{quote(c.name)} {wh.sql_type(c.type)}" for c in request.files.columns]
    return [*cols, f"{quote(LOADED_AT)} TIMESTAMP_TZ(9)", f"{quote(RUN_ID)} VARCHAR"]


def stage_comment(ttl_s: float = STAGE_TTL_S) -> str:
    return f"headrace load owner={owner_token()} expires={int(time.time() + ttl_s)}"


def _full(wh: SnowflakeWarehouse, request: LoadRequest, storage: Storage) -> int:
    from headrace.sqltext import short_name

    stage_name = short_name("_hr_stage_", f"{request.table}_{wh.token(request.run_id)}", 255)
    stage = qualified(request.schema, stage_name)
    wh.run(
        f"CREATE OR REPLACE TRANSIENT TABLE {stage} ({', '.join(_ddl(wh, request))}) "
        f"COMMENT = {wh.lit(stage_comment())}"
    )
    cols = ", ".join(quote(c.name) for c in request.files.columns)
    try:
        _fill_raw(wh, request, storage)
        rows = wh.changed(
            f"INSERT INTO {stage} ({cols}, {quote(LOADED_AT)}, {quote(RUN_ID)}) "
            f"SELECT {', '.join(_typed(request))}, CURRENT_TIMESTAMP(), {wh.lit(request.run_id)} "
            f"FROM {RAW} ORDER BY {SEQ}"
        )
    except Exception as exc:
        error = _explained(wh, exc, request, storage)
        wh.run(f"DROP TABLE IF EXISTS {stage}")  # a failed load leaves nothing (a killed one: the sweep)
        raise error from None
    wh.run(f"DROP TABLE IF EXISTS {RAW}")
    faults.point("load.before_commit")
    wh.swap(request.schema, stage_name, request.table)  # the commit point of the rows
    with wh.transaction():
        _bookkeeping(wh, request, rows)
    faults.point("load.after_commit")
    return rows


def _append(wh: SnowflakeWarehouse, request: LoadRequest, target: str) -> int:
    cols = ", ".join(quote(c.name) for c in request.files.columns)
    return wh.changed(
        f"INSERT INTO {target} ({cols}, {quote(LOADED_AT)}, {quote(RUN_ID)}) "
        f"SELECT {', '.join(_typed(request))}, CURRENT_TIMESTAMP(), {wh.lit(request.run_id)} FROM {RAW} ORDER BY {SEQ}"
    )


def _merge(wh: SnowflakeWarehouse, request: LoadRequest, target: str) -> int:
    """MERGE the last row of each key; a row whose values did not change is left alone."""
    common._check_keys(wh, RAW, request)
    names = [c.name for c in request.files.columns]
    keys = [quote(k) for k in request.primary_key]
    values = [quote(n) for n in names if n not in request.primary_key]
    cols = [quote(n) for n in names]
    last = (
        f"(SELECT * FROM (SELECT {', '.join(_typed(request))}, {SEQ} FROM {RAW}) "
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {', '.join(keys)} ORDER BY {SEQ} DESC) = 1)"
    )
    on = " AND ".join(f"t.{k} = b.{k}" for k in keys)
    changed = " OR ".join(f"NOT EQUAL_NULL(t.{v}, b.{v})" for v in values)
    run = wh.lit(request.run_id)
    updates = ", ".join([*(f"{v} = b.{v}" for v in values), f"{quote(LOADED_AT)} = CURRENT_TIMESTAMP()"])
    updates += f", {quote(RUN_ID)} = {run}"
    insert = f"({', '.join(cols)}, {quote(LOADED_AT)}, {quote(RUN_ID)})"
    new = f"({', '.join(f'b.{c}' for c in cols)}, CURRENT_TIMESTAMP(), {run})"
    return wh.changed(
        f"MERGE INTO {target} AS t USING {last} AS b ON {on} "
        + (f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {updates} " if values else "")
        + f"WHEN NOT MATCHED THEN INSERT {insert} VALUES {new}"
    )


def _bookkeeping(wh: SnowflakeWarehouse, request: LoadRequest, rows: int) -> None:
    """The incremental cursor and the ``table_loads`` row, inside the caller's transaction."""
    if request.state_key is not None and request.state_value is not None:
        wh.set_state(request.state_key, request.state_value)
    wh.run(
        f"INSERT INTO {META}.table_loads SELECT %s, %s, %s, %s, %s, CURRENT_TIMESTAMP()",
        (request.run_id, f"{request.schema}.{request.table}", request.mode, rows, request.files.bytes),
    )


# -- getting the parts in -------------------------------------------------------------------------


def _fill_raw(wh: SnowflakeWarehouse, request: LoadRequest, storage: Storage) -> None:
    """``_HEADRACE_RAW``: every part's fields as text, in arrival order (``_HEADRACE_SEQ``)."""
    cols = [f"{quote(c.name)} VARCHAR" for c in request.files.columns]
    wh.run(f"CREATE OR REPLACE TEMPORARY TABLE {RAW} ({', '.join(cols)}, {SEQ} NUMBER AUTOINCREMENT ORDER)")
    names = [quote(c.name) for c in request.files.columns]
    native = storage.capabilities.scheme in wh.capabilities.native_load_schemes
    for part in request.parts:
        parts.require_csv(request, part, "Snowflake")
    for index, part in enumerate(request.parts):
        try:
            if native:
                wh.run(copy_sql(RAW, names, location(part.uri), parts.codec(part), wh.storage_integration))
            else:
                path = f"@{STAGE}/{wh.token(request.run_id)}/{index:05d}/"
                _put(wh, part, storage, path)
                wh.run(copy_sql(RAW, names, path, parts.codec(part)))
        except TaskFailed:
            raise
        except Exception as exc:
            raise _copy_failed(exc, request, part, storage) from None


def _put(wh: SnowflakeWarehouse, part: StoredPart, storage: Storage, path: str) -> None:
    spool = spool_part(storage, part)
    try:
        name = parts.part_name(part)
        compression = COMPRESSION[parts.codec(part)]
        wh.ensure_stage()
        wh.run(
            f"PUT file:///{name} {path} AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = {compression} OVERWRITE = TRUE",
            file_stream=spool,
        )
    finally:
        spool.close()


class _Tee:
    """Reads ``raw`` and keeps a copy of every byte read in ``copy``."""

    def __init__(self, raw: IO[bytes], copy: IO[bytes]):
        self.raw, self.copy = raw, copy

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.copy.write(data)
        return data


def spool_part(storage: Storage, part: StoredPart) -> IO[bytes]:
    """The part's bytes as stored (still compressed), read once from storage and checked whole
    on the way (a missing, cut or corrupt part fails here, naming it, before anything is sent)."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 (returned open)
    try:
        with storage.open(part.key) as raw:
            tee = _Tee(raw, spool)
            stream: Any = tee
            if parts.codec(part) == "gzip":
                stream = gzip.GzipFile(fileobj=tee, mode="rb")  # type: ignore[arg-type]
            elif parts.codec(part) == "zstd":
                import zstandard

                stream = zstandard.ZstdDecompressor().stream_reader(tee, read_across_frames=True)  # type: ignore[arg-type]
            while stream.read(parts.CHUNK):
                pass
            while tee.read(parts.CHUNK):  # what the decompressor did not need
                pass
    except parts.decode_errors(part) as exc:
        spool.close()
        raise parts.unreadable(storage, part, exc) from None
    spool.seek(0)
    return spool


# -- what a failed load says ----------------------------------------------------------------------


def _message(exc: BaseException) -> str:
    """The warehouse's message on one line (Snowflake puts the detail on the lines after the first)."""
    text = " ".join((getattr(exc, "msg", None) or str(exc)).split())
    return (text[:300] + "...") if len(text) > 300 else text or type(exc).__name__


def _copy_failed(exc: Exception, request: LoadRequest, part: StoredPart, storage: Storage) -> Exception:
    """A COPY refused the file: a row that is not one of the contract (e.g. a field too many)."""
    text = (getattr(exc, "msg", None) or str(exc)).strip()
    first = text.splitlines()[0] if text else type(exc).__name__  # the rest may quote the whole row
    line = None
    if match := _ROW.search(text) or _RECORD.search(text):
        record = int(match.group(1)) + (1 if match.re is _ROW else 0)
        line = parts.find_line(storage, part, 0, None, record=record)
    elif match := _LINE.search(text):
        line = int(match.group(1))
    return parts.bad_value(request, part, line, None, None, f"Snowflake: {first}")


def _explained(wh: SnowflakeWarehouse, exc: Exception, request: LoadRequest, storage: Storage) -> Exception:
    """A typed statement failed: the first value no conversion accepts, with its part and line."""
    from snowflake.connector import errors

    if not isinstance(exc, errors.ProgrammingError):
        return exc
    why = f"Snowflake: {_message(exc)}"
    for index, column in enumerate(request.files.columns):
        if parse_type(column.type).name == "string":
            continue
        name = quote(column.name)
        try:
            found = wh.run(
                f"SELECT {name} FROM {RAW} WHERE {name} IS NOT NULL AND {conversion(name, column.type, try_=True)} "
                f"IS NULL ORDER BY {SEQ} LIMIT 1"
            ).fetchone()
        except errors.ProgrammingError:
            continue
        if found is None:
            continue
        for part in request.parts:
            line = parts.find_line(storage, part, index, found[0])
            if line is not None:
                return parts.bad_value(request, part, line, column.name, found[0], why)
        return parts.bad_value(request, request.parts[0], None, column.name, found[0], why)
    return TaskFailed(f"{request.schema}.{request.table}: the load failed: {why}; nothing of this run was loaded")
