"""fakesnow's HTTP server as the Snowflake tests use it: run with .venvs/fakesnow/bin/python -P
(never imported by .venv), ``fakesnow_server.py PORT STATEMENT_LOG``.

fakesnow runs Snowflake SQL on DuckDB. Where it departs from documented Snowflake behaviour
in a way Headrace's loads depend on, this file brings it back, and nothing more:

- CSV: Snowflake reads every field as text and converts it to the column's type, refuses a
  row with more fields than columns, and with ``FIELD_OPTIONALLY_ENCLOSED_BY = '"'`` reads a
  quoted empty field as an empty string. fakesnow hands the file to DuckDB's ``read_csv``,
  which sniffs types ('007' becomes 7) and column count, and reads ``""`` as NULL: the
  columns are given (as VARCHAR) and ``allow_quoted_nulls = false``.
- A NULL timestamp comes back as 1970-01-01 (fakesnow's result structs drop the null mask):
  the mask is kept.
- ``ALTER TABLE a SWAP WITH b`` (not parsed by fakesnow) runs as three renames.
- A ``CREATE TABLE`` without a comment records an empty comment in fakesnow's global
  database, which DuckDB refuses inside a transaction that wrote elsewhere (so MERGE, whose
  emulation creates a temporary table, failed in any explicit transaction): not recorded.
- Access control (roles, users, grants) is not emulated: those statements succeed and do
  nothing (fakesnow's own ``nop_regexes``). What Headrace sends is checked in the tests from
  the statement log instead (one JSON line per statement and per login, with its user and
  role), and only a real account
  shows the confinement they give.
- A CSV that DuckDB cannot read (a row with a field too many) fails the COPY with DuckDB's
  message (its line number) instead of an unhandled error.
- An unhandled emulator error answers as a failed statement instead of HTTP 500, which the
  connector would retry for minutes.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time

import duckdb
import fakesnow.arrow as fs_arrow
import fakesnow.copy_into as copy_into
import fakesnow.cursor as fs_cursor
import fakesnow.info_schema as info_schema
import fakesnow.server as fs_server
import snowflake.connector.errors
from sqlglot import exp
from starlette.responses import JSONResponse
from starlette.routing import Route

ACCESS_CONTROL = [
    r"\s*(CREATE|ALTER|DROP)\s+(OR\s+REPLACE\s+)?(ROLE|USER)\b",
    r"\s*(GRANT|REVOKE)\b",
    r"\s*USE\s+(SECONDARY\s+)?ROLES?\b",
    r"\s*SHOW\s+GRANTS\b",
    r"\s*ALTER\s+SCHEMA\s+\S+\s+ENABLE\s+MANAGED\s+ACCESS\b",
]
_SWAP = re.compile(r"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(\S+)\s+SWAP\s+WITH\s+(\S+?)\s*;?\s*$", re.I | re.S)
_log_lock = threading.Lock()


def _read_csv_as_snowflake() -> None:
    """Fields as text, exactly the target's column count (a row with more fields fails, as in
    Snowflake), ``""`` not NULL. fakesnow reads ``column0..N`` from an untyped ``read_csv``, whose
    sniffer also names them ``column00`` past nine columns and finds one column in an empty file."""
    import sqlglot

    original_inserts = copy_into._inserts
    original_read = copy_into.ReadCSV.read_expression

    def _inserts(expr, params, urls, parquet_info=None):  # type: ignore[no-untyped-def]
        if isinstance(params.file_format, copy_into.ReadCSV) and isinstance(expr.this, exp.Schema):
            params.file_format.columns = len(expr.this.expressions)  # type: ignore[attr-defined]
        return original_inserts(expr, params, urls, parquet_info)

    def read_expression(self: copy_into.ReadCSV, url: str) -> exp.Expr:
        call = original_read(self, url)
        count = getattr(self, "columns", None)
        if count:
            spec = ", ".join(f"'column{i}': 'VARCHAR'" for i in range(count))
            columns = sqlglot.parse_one("{" + spec + "}", read="duckdb")
            call.append("expressions", exp.EQ(this=exp.var("columns"), expression=columns))
            call.append("expressions", self.make_eq("auto_detect", False))
        else:
            call.append("expressions", self.make_eq("all_varchar", True))
        call.append("expressions", self.make_eq("allow_quoted_nulls", False))
        return call

    copy_into._inserts = _inserts
    copy_into.ReadCSV.read_expression = read_expression  # type: ignore[method-assign]


def _null_timestamps() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    original = fs_arrow.timestamp_to_sf_struct

    def timestamp_to_sf_struct(ts):  # type: ignore[no-untyped-def]
        if isinstance(ts, pa.ChunkedArray):
            ts = ts.combine_chunks()
        struct = original(ts)
        if not ts.null_count:
            return struct
        children = [pc.fill_null(child, 0) for child in struct.flatten()]
        return pa.StructArray.from_arrays(children, fields=list(struct.type), mask=ts.is_null())

    fs_arrow.timestamp_to_sf_struct = timestamp_to_sf_struct


def _no_empty_comments() -> None:
    original = info_schema.insert_table_comment_sql

    def insert_table_comment_sql(catalog: str, schema: str, table: str, comment: str) -> str:
        return "SELECT 1 WHERE false" if comment is None else original(catalog, schema, table, comment)

    info_schema.insert_table_comment_sql = insert_table_comment_sql
    fs_cursor.info_schema.insert_table_comment_sql = insert_table_comment_sql  # type: ignore[attr-defined]


def _swap_and_log(log_path: str) -> None:
    original = fs_cursor.FakeSnowflakeCursor.execute

    def execute(self, command: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return _execute(self, command, *args, **kwargs)
        except duckdb.InvalidInputException as exc:  # a file COPY cannot read: Snowflake's user error 100xxx
            raise snowflake.connector.errors.ProgrammingError(msg=str(exc), errno=100016, sqlstate="22000") from None

    def _execute(self, command: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        with _log_lock, open(log_path, "a") as log:
            log.write(json.dumps({"sql": command, "t": round(time.time(), 3)}) + "\n")
        swap = _SWAP.match(command)
        if not swap:
            return original(self, command, *args, **kwargs)
        a, b = swap.group(1), swap.group(2)
        spare = f"{a.rsplit('.', 1)[0]}._fs_swap" if "." in a else "_fs_swap"
        original(self, f"ALTER TABLE {a} RENAME TO {spare}")
        original(self, f"ALTER TABLE {b} RENAME TO {a}")
        return original(self, f"ALTER TABLE {spare} RENAME TO {b}")

    fs_cursor.FakeSnowflakeCursor.execute = execute  # type: ignore[method-assign]


def _log_logins(log_path: str) -> None:
    """One line per login: the user and the role the connector asked for."""
    original = fs_server.login_request

    async def login_request(request):  # type: ignore[no-untyped-def]
        import gzip

        body = await request.body()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        user = json.loads(body)["data"].get("LOGIN_NAME")
        with _log_lock, open(log_path, "a") as log:
            log.write(json.dumps({"login": user, "role": request.query_params.get("roleName")}) + "\n")
        return await original(request)

    fs_server.app.router.routes = [
        Route(r.path, login_request, methods=["POST"]) if getattr(r, "path", "") == "/session/v1/login-request" else r
        for r in fs_server.app.router.routes
    ]


def _errors_not_500() -> None:
    original = fs_server.query_request

    async def query_request(request):  # type: ignore[no-untyped-def]
        response = await original(request)
        if response.status_code != 500:
            return response
        body = json.loads(response.body)
        message = f"fakesnow cannot run this statement: {body.get('message')}"
        return JSONResponse(
            {
                "data": {"errorCode": "000002", "sqlState": "0A000"},
                "code": "000002",
                "message": message,
                "success": False,
            }
        )

    fs_server.app.router.routes = [
        Route(r.path, query_request, methods=["POST"]) if getattr(r, "path", "") == "/queries/v1/query-request" else r
        for r in fs_server.app.router.routes
    ]


def main(port: int, log_path: str) -> None:
    _read_csv_as_snowflake()
    _null_timestamps()
    _no_empty_comments()
    _swap_and_log(log_path)
    _errors_not_500()
    _log_logins(log_path)
    fs_server.shared_fs.nop_regexes = ACCESS_CONTROL
    import uvicorn

    uvicorn.Server(uvicorn.Config(fs_server.app, host="127.0.0.1", port=port, log_level="warning")).run()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
