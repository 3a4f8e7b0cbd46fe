"""Run a SQL transformation (DESIGN §4).

A fresh working schema ``tr_<id>_<run>`` holds only the declared inputs (as views);
the SQL files run there in name order with unqualified names; only the declared
outputs are copied to ``out_<id>``, all or nothing; the working schema is dropped
afterwards, also on failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from headrace.errors import TaskFailed
from headrace.project.graph import out_schema, work_schema
from headrace.transformations.isolation import foreign_tables
from headrace.transformations.sqlsplit import split_statements
from headrace.warehouses.base import Warehouse


def run_token(run_id: str, task_id: str) -> str:
    return hashlib.sha1(f"{run_id}/{task_id}".encode()).hexdigest()[:8]


def run_sql_transformation(
    warehouse: Warehouse, task: dict[str, Any], run_id: str, log: Callable[[str], None]
) -> dict[str, int]:
    tr_id = task["component"]
    config = task["config"]
    work = work_schema(tr_id, run_token(run_id, task["id"]))
    inputs = {(i.get("as") or i["table"].split(".")[1]): i["table"] for i in config["inputs"]}
    dialect = warehouse.capabilities.dialect
    log(f"working schema {work} with inputs: {', '.join(f'{k} <- {v}' for k, v in inputs.items()) or 'none'}")
    warehouse.create_working_schema(work, inputs)
    try:
        warehouse.use_schema(work)
        for sql_file in task["sql"]:
            where = f"transformations/{tr_id}/{sql_file['file']}"
            for statement in split_statements(sql_file["text"]):
                outside = foreign_tables(statement.sql, dialect, allowed_schemas={work})
                if outside:
                    raise TaskFailed(
                        f"{where}: statement at line {statement.line} ({statement.first_line}) reads "
                        f"{', '.join(outside)} directly; declare it under inputs in transformation.yaml "
                        "and refer to it without a schema"
                    )
                try:
                    warehouse.execute(statement.sql)
                except Exception as exc:  # the driver's error, reported with file and line
                    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                    raise TaskFailed(
                        f"{where}: statement at line {statement.line} failed: {statement.first_line}\n  {message}"
                    ) from exc
            log(f"{sql_file['file']} done")
        missing = [o for o in config["outputs"] if not warehouse.table_exists(work, o)]
        if missing:
            raise TaskFailed(
                f"transformations/{tr_id}: declared output(s) {', '.join(missing)} were not created by the SQL; "
                "create them (CREATE TABLE name AS ...) or remove them from outputs"
            )
        rows = warehouse.publish_tables(work, out_schema(tr_id), config["outputs"])
        for name, count in rows.items():
            log(f"{out_schema(tr_id)}.{name}: {count:,} rows")
        return rows
    finally:
        warehouse.drop_schema(work)
