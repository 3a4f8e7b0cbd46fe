"""Loads into BigQuery: raw text by load jobs, then one commit job that converts and writes.

1. **Raw**: the parts go into ``headrace_staging._hr_raw_<table>_<hash>``, every column STRING,
   by load jobs with an explicit schema (never autodetect): one job over the ``gs://`` URIs
   when the storage is GCS, else one ``load_table_from_file`` per part, streamed record by
   record (``csvstream``: sequence numbers, one line per record). The staging dataset's tables
   expire by themselves (``STAGING_EXPIRY_MS``), so a killed load leaves nothing for long.
2. **Check**: the first value that does not convert fails the load, naming table, column,
   line and value; nothing was written.
3. **Commit**: one job whose id comes from (run, table), not from the attempt (``jobs``):
   - ``full`` (and the first load of a table): ``CREATE OR REPLACE TABLE ... AS SELECT``, which
     BigQuery applies atomically (readers see the old table or the new one);
   - ``append``: ``INSERT``; ``upsert`` and ``incremental`` with a key: ``MERGE`` of the last row
     per key (by ``_hr_seq``), updating only rows whose values changed;
   then the ``headrace_meta.table_loads`` row and the incremental state. On BigQuery itself an
   append or merge runs with them in one multi-statement transaction. DDL cannot run in a
   transaction, so a full load's script replaces the table first and writes the metadata after
   it: a retry of a killed run finds the commit job by its id (waits for it if it still runs,
   runs the next id if it failed), and a full replace run twice gives the same table.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from headrace import faults
from headrace.errors import TaskFailed
from headrace.sqltext import ident
from headrace.storage.base import Storage
from headrace.tablefiles import Column
from headrace.warehouses.base import LOADED_AT, RUN_ID, LoadRequest
from headrace.warehouses.bigquery import convert, csvstream
from headrace.warehouses.common import parts
from headrace.warehouses.common.loads import check_columns

if TYPE_CHECKING:
    from headrace.warehouses.bigquery.warehouse import BigQueryWarehouse

D = "bigquery"
STAGING = "headrace_staging"
STAGING_EXPIRY_MS = 7 * 24 * 3600 * 1000


def load(wh: BigQueryWarehouse, request: LoadRequest, storage: Storage) -> int:
    name = f"{request.schema}.{request.table}"
    wh.ensure_dataset(request.schema)
    wh.ensure_dataset(STAGING, expiry_ms=STAGING_EXPIRY_MS)
    digest = hashlib.sha1(f"{request.run_id}\x1f{name}".encode()).hexdigest()[:12]
    raw_id = f"_hr_raw_{request.table}"[:200] + f"_{digest}"
    raw = wh.qualified(STAGING, raw_id)
    labels = {"run": request.run_id, "schema": request.schema, "table": request.table}
    for part in request.parts:
        parts.require_csv(request, part, "BigQuery")
    try:
        # BigQuery's CSV load reads gzip or plain: zstd parts (a run written for another warehouse)
        # are decompressed while streamed and sent plain, never handed to BigQuery as they are
        native = storage.capabilities.scheme in wh.capabilities.native_load_schemes and all(
            parts.codec(p) != "zstd" for p in request.parts
        )
        streamed = _raw(wh, request, storage, raw_id, native, labels)
        if not streamed and request.merges and _duplicate_keys(wh, request, raw, labels):
            streamed = _raw(wh, request, storage, raw_id, False, labels)  # the last row of a key needs the order
        _check_values(wh, request, storage, raw, streamed, labels)
        exists = wh.table_exists(request.schema, request.table)
        target = wh.qualified(request.schema, request.table)
        if request.mode == "full" or not exists:
            statements, rows = _full(wh, request, raw, target, streamed)
            transaction = False
        else:
            check_columns(wh, request, _base)
            if request.merges:
                statements, rows = _merge(wh, request, raw, target, streamed, labels)
            else:
                statements, rows = _append(wh, request, raw, target, streamed)
            transaction = True
        statements += _meta(wh, request, name, rows)
        faults.point("load.before_commit")
        key = ("load", request.run_id, request.schema, request.table)
        job = wh.commit(statements, transaction, key, {**labels, "rows": str(rows)})
        rows = int((job.labels or {}).get("headrace_rows", rows))  # an earlier attempt's, if it committed
        faults.point("load.after_commit")
        return rows
    finally:
        wh.drop_table(STAGING, raw_id)


def _raw_fields(columns: list[Column], streamed: bool) -> list[Any]:
    from google.cloud.bigquery import SchemaField

    fields = [SchemaField(csvstream.SEQ, "INTEGER")] if streamed else []
    return fields + [SchemaField(c.name, "STRING") for c in columns]


def _raw(
    wh: BigQueryWarehouse, request: LoadRequest, storage: Storage, raw_id: str, native: bool, labels: dict[str, str]
) -> bool:
    """Load the parts as text into the raw table; True when they were streamed (with ``_hr_seq``)."""
    destination = f"{wh.config.project}.{wh.dataset(STAGING)}.{raw_id}"
    if native:
        config = wh.load_config(_raw_fields(request.files.columns, False), labels, truncate=True)
        uris = [p.uri for p in request.parts]
        key = ("raw", request.run_id, request.schema, request.table)
        wh.run_job(
            key,
            lambda job_id: wh.client.load_table_from_uri(uris, destination, job_id=job_id, job_config=config),
            labels,
        )
        return False
    fields = _raw_fields(request.files.columns, True)
    wh.create_table(STAGING, raw_id, fields)  # also when there are no parts
    for index, part in enumerate(request.parts):
        config = wh.load_config(fields, labels, truncate=False)
        key = ("raw", request.run_id, request.schema, request.table, f"p{index:05d}")

        def start(job_id: str, part: Any = part, index: int = index, config: Any = config) -> Any:
            stream = csvstream.SequencedPart(storage, part, index)
            return wh.client.load_table_from_file(stream, destination, rewind=False, job_id=job_id, job_config=config)

        try:
            wh.run_job(key, start, labels)
        except TaskFailed:
            raise
        except Exception as exc:
            raise _load_failed(request, storage, part, exc) from None
    return True


def _load_failed(request: LoadRequest, storage: Storage, part: Any, exc: Exception) -> Exception:
    """A load job that refused the CSV: name the line whose field count is wrong, if one is."""
    line = csvstream.wrong_field_count_line(storage, part)
    if line is None:
        return exc
    why = "BigQuery: " + (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    return parts.bad_value(request, part, line, None, None, why)


def _duplicate_keys(wh: BigQueryWarehouse, request: LoadRequest, raw: str, labels: dict[str, str]) -> bool:
    keys = ", ".join(ident(k, D) for k in request.primary_key)
    sql = f"SELECT count(*) FROM (SELECT {keys} FROM {raw} GROUP BY {keys} HAVING count(*) > 1)"
    return wh.scalar(sql, labels) > 0


def _check_values(
    wh: BigQueryWarehouse, request: LoadRequest, storage: Storage, raw: str, streamed: bool, labels: dict[str, str]
) -> None:
    sql = convert.first_bad(request.files.columns, raw, streamed)
    found = wh.rows(sql, labels) if sql else []
    if not found:
        return
    index, value, seq = found[0]
    column = request.files.columns[int(index)]
    if streamed:
        part_index, record = csvstream.where(int(seq))
        part = request.parts[part_index]
        line = parts.find_line(storage, part, 0, None, record=record)
    else:  # loaded natively: find the value in the parts
        part, line = request.parts[0], None
        for candidate in request.parts:
            line = parts.find_line(storage, candidate, int(index), value)
            if line is not None:
                part = candidate
                break
    why = f"BigQuery {wh.sql_type(column.type)}: malformed or out of range"
    raise parts.bad_value(request, part, line, column.name, value, why)


def _check_keys(wh: BigQueryWarehouse, request: LoadRequest, relation: str, labels: dict[str, str]) -> None:
    """Keys compare with = (``null_safe_keys`` is off): a NULL key fails the load."""
    nulls = " OR ".join(f"{ident(k, D)} IS NULL" for k in request.primary_key)
    count = wh.scalar(f"SELECT count(*) FROM {relation} WHERE {nulls}", labels)
    if count:
        raise TaskFailed(
            f"{request.schema}.{request.table}: {count} row(s) have a NULL primary key "
            f"({', '.join(request.primary_key)}); a merge needs every key set (fix the source or the filter)"
        )


def _full(wh: BigQueryWarehouse, request: LoadRequest, raw: str, target: str, streamed: bool) -> tuple[list[str], int]:
    if request.merges:  # later runs merge into this table
        typed = {c.name: c for c in request.files.columns}
        keys = [
            f"{convert.typed(typed[k], convert.text(typed[k], streamed))} AS {ident(k, D)}" for k in request.primary_key
        ]
        _check_keys(wh, request, f"(SELECT {', '.join(keys)} FROM {raw})", {})
    cols = convert.converted(request.files.columns, streamed)
    select = f"SELECT {', '.join(cols)}, CURRENT_TIMESTAMP() AS {LOADED_AT}, {wh.lit(request.run_id)} AS {RUN_ID}"
    rows = wh.scalar(f"SELECT count(*) FROM {raw}", {})
    return [f"CREATE OR REPLACE TABLE {target} AS {select} FROM {raw}"], rows


def _append(
    wh: BigQueryWarehouse, request: LoadRequest, raw: str, target: str, streamed: bool
) -> tuple[list[str], int]:
    names = [ident(c.name, D) for c in request.files.columns]
    cols = convert.converted(request.files.columns, streamed)
    rows = wh.scalar(f"SELECT count(*) FROM {raw}", {})
    sql = (
        f"INSERT INTO {target} ({', '.join(names)}, {LOADED_AT}, {RUN_ID}) "
        f"SELECT {', '.join(cols)}, CURRENT_TIMESTAMP(), {wh.lit(request.run_id)} FROM {raw}"
    )
    return [sql], rows


def _comparable(column: Column, alias: str) -> str:
    """A value of the column that ``IS DISTINCT FROM`` can compare (JSON cannot be compared)."""
    name = f"{alias}.{ident(column.name, D)}"
    return f"TO_JSON_STRING({name})" if column.type == "json" else name


def _merge(
    wh: BigQueryWarehouse, request: LoadRequest, raw: str, target: str, streamed: bool, labels: dict[str, str]
) -> tuple[list[str], int]:
    """MERGE the last row per key; rows inserted or changed (counted before, in the same terms)."""
    columns = request.files.columns
    keys = [ident(k, D) for k in request.primary_key]
    cols = convert.converted(columns, streamed)
    order = ident(csvstream.SEQ, D) if streamed else "1"  # loaded natively only without duplicate keys
    last = (
        f"(SELECT * EXCEPT (_hr_n) FROM (SELECT {', '.join(cols)}, "
        f"ROW_NUMBER() OVER (PARTITION BY {', '.join(keys)} ORDER BY {order} DESC) AS _hr_n "
        f"FROM {raw}) WHERE _hr_n = 1)"
    )
    _check_keys(wh, request, last, labels)
    on = " AND ".join(f"t.{k} = b.{k}" for k in keys)
    values = [c for c in columns if c.name not in request.primary_key]
    changed = " OR ".join(f"{_comparable(c, 't')} IS DISTINCT FROM {_comparable(c, 'b')}" for c in values)
    count = f"SELECT count(*) FROM {last} AS b LEFT JOIN {target} AS t ON {on} WHERE t.{keys[0]} IS NULL"
    if values:
        count += f" OR ({changed})"
    rows = wh.scalar(count, labels)
    run = wh.lit(request.run_id)
    names = [ident(c.name, D) for c in columns]
    updates = ", ".join(
        [
            *(f"{ident(c.name, D)} = b.{ident(c.name, D)}" for c in values),
            f"{LOADED_AT} = CURRENT_TIMESTAMP()",
            f"{RUN_ID} = {run}",
        ]
    )
    sql = (
        f"MERGE {target} AS t USING {last} AS b ON {on} "
        + (f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {updates} " if values else "")
        + f"WHEN NOT MATCHED THEN INSERT ({', '.join(names)}, {LOADED_AT}, {RUN_ID}) "
        f"VALUES ({', '.join(f'b.{n}' for n in names)}, CURRENT_TIMESTAMP(), {run})"
    )
    return [sql], rows


def _meta(wh: BigQueryWarehouse, request: LoadRequest, name: str, rows: int) -> list[str]:
    meta = wh.meta
    statements = [
        f"INSERT INTO {meta('table_loads')} (run_id, table_name, mode, `rows`, bytes, loaded_at) VALUES "
        f"({wh.lit(request.run_id)}, {wh.lit(name)}, {wh.lit(request.mode)}, {int(rows)}, "
        f"{int(request.files.bytes or 0)}, CURRENT_TIMESTAMP())"
    ]
    if request.state_key is not None and request.state_value is not None:
        statements.append(wh.state_sql(request.state_key, json.dumps(request.state_value, default=str)))
    return statements


_ALIASES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}


def _base(kind: str) -> str:
    name = kind.split("(")[0].upper()
    return _ALIASES.get(name, name)
