"""The BigQuery warehouse: a dataset per schema, ``headrace_meta`` as tables, jobs with labels.

Every job carries ``headrace_*`` labels (run, schema, table, step); the jobs that load or
publish have deterministic ids (``jobs``). BigQuery has no logins: datamart readers are IAM
members, given read access on the datamart's dataset (``access``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from headrace.errors import ConfigError, TaskFailed
from headrace.sqltext import ident, literal
from headrace.storage.base import Storage
from headrace.typemaps import sql_type
from headrace.warehouses.base import META, LoadRequest, TaskRecord, TransformationSession, Warehouse
from headrace.warehouses.bigquery import CAPABILITIES, BigQueryConfig, access, client, jobs, loads, session
from headrace.warehouses.common import meta as meta_tables

D = "bigquery"
WORK_PREFIX = "tr_"


def open(config: BigQueryConfig, state_dir: Path) -> BigQueryWarehouse:
    return BigQueryWarehouse(config)


class BigQueryWarehouse(Warehouse):
    capabilities = CAPABILITIES

    def __init__(self, config: BigQueryConfig):
        self.config = config
        self.credentials = client.credentials(config)
        self.client = client.make_client(config, self.credentials)
        if config.emulator:  # crucible has no table clones: inputs are copied
            self.capabilities = dataclasses.replace(CAPABILITIES, clones=False)
        self.task_labels: dict[str, str] = {}  # run and task of the transformation registered last
        self._datasets: set[str] = set()
        self.ensure_meta()

    def close(self) -> None:
        self.client.close()

    def __repr__(self) -> str:
        return f"BigQueryWarehouse(project={self.config.project}, location={self.config.location})"

    # -- names and SQL text -------------------------------------------------------------------------

    def dataset(self, schema: str) -> str:
        return f"{self.config.dataset_prefix}{schema}"

    def qualified(self, schema: str, table: str) -> str:
        return f"{ident(self.dataset(schema), D)}.{ident(table, D)}"

    def meta(self, table: str) -> str:
        return self.qualified(META, table)

    def lit(self, value: str) -> str:
        return literal(value, D)

    def sql_type(self, portable: str) -> str:
        return sql_type(portable, D)

    # -- jobs --------------------------------------------------------------------------------------

    def job_config(self, kind: str, labels: dict[str, str], **settings: Any) -> Any:
        from google.cloud import bigquery

        made = getattr(bigquery, kind)(labels=jobs.labels(**labels), **settings)
        if not self.config.emulator:  # crucible refuses a timeout it would not apply
            made.job_timeout_ms = int(self.config.job_timeout) * 1000
        return made

    def load_config(self, fields: list[Any], labels: dict[str, str], truncate: bool) -> Any:
        """A CSV load job: the explicit schema, the header skipped, never autodetect."""
        from google.cloud import bigquery

        settings: dict[str, Any] = {
            "schema": fields,
            "source_format": bigquery.SourceFormat.CSV,
            "skip_leading_rows": 1,
            "write_disposition": "WRITE_TRUNCATE" if truncate else "WRITE_APPEND",
            "create_disposition": "CREATE_IF_NEEDED",
        }
        if not self.config.emulator:  # settings crucible refuses because its reader has them fixed
            settings |= {
                "autodetect": False,
                "allow_quoted_newlines": True,
                "quote_character": '"',
                "field_delimiter": ",",
                "encoding": "UTF-8",
                "null_marker": "",  # an unquoted empty field; "" stays an empty string
                "preserve_ascii_control_characters": True,
                "max_bad_records": 0,
            }
        # BigQuery reads .csv.gz parts from gs:// as they are (no setting); streamed parts are plain
        return self.job_config("LoadJobConfig", {**labels, "step": "load"}, **settings)

    def run_job(
        self, key: Sequence[str], start: Callable[[str], Any], labels: dict[str, str], reuse: bool = False
    ) -> Any:
        return jobs.run(
            self.client, jobs.job_id(*key), start, self.config.location, float(self.config.job_timeout), reuse
        )

    def submit(self, sql: str, labels: dict[str, str] | None = None, job_id: str | None = None, **settings: Any) -> Any:
        config = self.job_config("QueryJobConfig", {"step": "query", **(labels or {})}, **settings)
        job = self.client.query(sql, job_config=config, job_id=job_id, location=self.config.location)
        job.result(timeout=float(self.config.job_timeout))
        return job

    def rows(self, sql: str, labels: dict[str, str] | None = None) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) for r in self.submit(sql, labels).result()]

    def scalar(self, sql: str, labels: dict[str, str] | None = None) -> int:
        return int(self.rows(sql, labels)[0][0] or 0)

    def commit(self, statements: list[str], transaction: bool, key: Sequence[str], labels: dict[str, str]) -> Any:
        """One script job with a deterministic id; DML in one transaction on BigQuery itself."""
        body = ";\n".join(statements)
        if transaction and not self.config.emulator:  # crucible has no transactions
            body = f"BEGIN TRANSACTION;\n{body};\nCOMMIT TRANSACTION"
        config = self.job_config("QueryJobConfig", {"step": "commit", **labels})

        def start(job_id: str) -> Any:
            return self.client.query(
                body, job_config=config, job_id=job_id, location=self.config.location, job_retry=None
            )

        return self.run_job(key, start, labels, reuse=True)

    # -- plain SQL ---------------------------------------------------------------------------------

    def execute(self, sql: str) -> None:
        self.submit(sql)

    def query(self, sql: str, limit: int | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        result = self.submit(sql).result(max_results=limit)
        columns = [field.name for field in result.schema or []]
        return columns, [tuple(r.values()) for r in result]

    # -- datasets and tables -----------------------------------------------------------------------

    def ensure_dataset(self, schema: str, expiry_ms: int | None = None) -> None:
        name = self.dataset(schema)
        if name in self._datasets:
            return
        from google.cloud import bigquery

        dataset = bigquery.Dataset(f"{self.config.project}.{name}")
        dataset.location = self.config.location
        dataset.labels = {"headrace": "managed"}
        if expiry_ms:
            dataset.default_table_expiration_ms = expiry_ms
        self.client.create_dataset(dataset, exists_ok=True)
        self._datasets.add(name)

    def drop_dataset(self, schema: str) -> None:
        self.client.delete_dataset(
            f"{self.config.project}.{self.dataset(schema)}", delete_contents=True, not_found_ok=True
        )
        self._datasets.discard(self.dataset(schema))

    def create_table(self, schema: str, table: str, fields: list[Any]) -> None:
        from google.cloud import bigquery

        self.drop_table(schema, table)
        self.client.create_table(bigquery.Table(f"{self.config.project}.{self.dataset(schema)}.{table}", schema=fields))

    def drop_table(self, schema: str, table: str) -> None:
        self.client.delete_table(f"{self.config.project}.{self.dataset(schema)}.{table}", not_found_ok=True)

    def get_table(self, schema: str, table: str) -> Any:
        from google.api_core.exceptions import NotFound

        try:
            return self.client.get_table(f"{self.config.project}.{self.dataset(schema)}.{table}")
        except NotFound:
            return None

    def table_exists(self, schema: str, table: str) -> bool:
        return self.get_table(schema, table) is not None

    def column_types(self, schema: str, table: str) -> list[tuple[str, str]]:
        found = self.get_table(schema, table)
        return [(f.name, f.field_type) for f in (found.schema if found else [])]

    def relations(self, schema: str) -> dict[str, str]:
        """Tables and views of ``schema``: name -> TABLE or VIEW."""
        from google.api_core.exceptions import NotFound

        try:
            listed = list(self.client.list_tables(f"{self.config.project}.{self.dataset(schema)}"))
        except NotFound:
            return {}
        return {t.table_id: ("VIEW" if t.table_type == "VIEW" else "TABLE") for t in listed}

    def schemas(self) -> list[str]:
        """Headrace schemas (datasets under the prefix, the prefix taken off)."""
        prefix = self.config.dataset_prefix
        names = [d.dataset_id for d in self.client.list_datasets(self.config.project)]
        return sorted(n[len(prefix) :] for n in names if n.startswith(prefix))

    # -- headrace_meta ------------------------------------------------------------------------------

    def ensure_meta(self) -> None:
        self.ensure_dataset(META)
        have = set(self.relations(META))
        for table, columns in meta_tables.tables(False).items():
            if table in have:
                continue
            cols = ", ".join(f"{ident(name, D)} {self.sql_type(kind)}" for name, kind, _ in columns)
            self.submit(f"CREATE TABLE IF NOT EXISTS {self.meta(table)} ({cols})", {"step": "meta"})

    def state_sql(self, key: str, value_json: str) -> str:
        return (
            f"MERGE {self.meta('state')} AS t USING (SELECT {self.lit(key)} AS key, "
            f"PARSE_JSON({self.lit(value_json)}) AS value) AS s ON t.key = s.key "
            "WHEN MATCHED THEN UPDATE SET value = s.value, updated_at = CURRENT_TIMESTAMP() "
            "WHEN NOT MATCHED THEN INSERT (key, value, updated_at) VALUES (s.key, s.value, CURRENT_TIMESTAMP())"
        )

    def get_state(self, key: str) -> Any:
        found = self.rows(f"SELECT TO_JSON_STRING(value) FROM {self.meta('state')} WHERE key = {self.lit(key)}")
        return json.loads(found[0][0]) if found and found[0][0] is not None else None

    def reset_state(self, key: str) -> None:
        self.submit(self._delete("state", "key", key))

    def _delete(self, table: str, column: str, value: str) -> str:
        """DELETE as a MERGE (crucible has MERGE ... DELETE, not DELETE)."""
        return (
            f"MERGE {self.meta(table)} AS t USING (SELECT {self.lit(value)} AS v) AS s "
            f"ON t.{ident(column, D)} = s.v WHEN MATCHED THEN DELETE"
        )

    def record_task(self, record: TaskRecord) -> None:
        run_id, task_id, status, started, ended, duration, rows, nbytes, error = record.row()

        def num(value: Any) -> str:
            return "NULL" if value is None else str(value)

        self.submit(
            f"INSERT INTO {self.meta('task_runs')} "
            "(run_id, task_id, status, started_at, ended_at, duration_s, `rows`, bytes, error) VALUES ("
            f"{self.lit(run_id)}, {self.lit(task_id)}, {self.lit(status)}, "
            f"TIMESTAMP_MICROS({int(started * 1e6)}), TIMESTAMP_MICROS({int(ended * 1e6)}), "
            f"{float(duration)}, {num(rows)}, {num(nbytes)}, {'NULL' if error is None else self.lit(error)})",
            {"run": run_id, "task": task_id, "step": "history"},
        )

    def loads_of_run(self, run_id: str) -> dict[str, int]:
        found = self.rows(
            f"SELECT table_name, `rows` FROM {self.meta('table_loads')} WHERE run_id = {self.lit(run_id)}"
        )
        return {name: int(count or 0) for name, count in found}

    def table_load_runs(self, table_name: str) -> list[str]:
        found = self.rows(
            f"SELECT run_id, max(loaded_at) AS last_load FROM {self.meta('table_loads')} "
            f"WHERE table_name = {self.lit(table_name)} GROUP BY run_id ORDER BY last_load DESC"
        )
        return [run_id for run_id, _ in found]

    def task_run_ids(self, task_id: str) -> set[str]:
        found = self.rows(f"SELECT DISTINCT run_id FROM {self.meta('task_runs')} WHERE task_id = {self.lit(task_id)}")
        return {run_id for (run_id,) in found}

    def task_recorded(self, run_id: str, task_id: str, since: float) -> bool:
        return (
            self.scalar(
                f"SELECT count(*) FROM {self.meta('task_runs')} WHERE run_id = {self.lit(run_id)} "
                f"AND task_id = {self.lit(task_id)} AND started_at >= TIMESTAMP_MICROS({int(since * 1e6)})"
            )
            > 0
        )

    # -- loads -------------------------------------------------------------------------------------

    def load(self, request: LoadRequest, storage: Storage) -> int:
        return loads.load(self, request, storage)

    # -- transformations, datamarts, leftovers ----------------------------------------------------

    def transformation_session(
        self, work_schema: str, inputs: dict[str, str], timeout_s: float | None = None
    ) -> AbstractContextManager[TransformationSession]:
        return session.transformation_session(self, work_schema, inputs, timeout_s)

    def publish_relations(self, source_schema: str, target_schema: str, sources: dict[str, str]) -> dict[str, int]:
        """Copy each table (name in ``target_schema`` -> table of ``source_schema``), replacing it
        atomically per table (BigQuery has no multi-table DDL transaction); rows per table."""
        self.ensure_dataset(target_schema)
        rows: dict[str, int] = {}
        labels = {**self.task_labels, "schema": target_schema, "step": "publish"}
        for table, source in sources.items():
            target = self.qualified(target_schema, table)
            self.submit(
                f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {self.qualified(source_schema, source)}", labels
            )
            rows[table] = self.scalar(f"SELECT count(*) FROM {target}", labels)
        return rows

    def publish_datamart(
        self, schema: str, entries: Sequence[tuple[str, str]], materialization: str, readers: Sequence[str] = ()
    ) -> None:
        members = self.reader_members(readers)
        self.ensure_dataset(schema)
        wanted = {name for _, name in entries}
        labels = {"schema": schema, "step": "datamart"}
        for name in set(self.relations(schema)) - wanted:  # the datamart holds exactly its entries
            self.drop_table(schema, name)
        kinds = self.relations(schema)
        what = "VIEW" if materialization == "view" else "TABLE"
        for source, name in entries:
            if kinds.get(name, what) != what:
                self.drop_table(schema, name)
            src_schema, src_table = source.split(".")
            self.submit(
                f"CREATE OR REPLACE {what} {self.qualified(schema, name)} AS "
                f"SELECT * FROM {self.qualified(src_schema, src_table)}",
                labels,
            )
        if not self.config.emulator:  # crucible has no dataset access lists
            access.grant_readers(self, schema, members, [s for s, _ in entries], materialization)

    def reader_members(self, readers: Sequence[str]) -> list[str]:
        """The IAM members of datamart readers: ``warehouse.readers``, else ``warehouse.default_reader``."""
        fallback = self.config.default_reader
        unknown = [r for r in readers if r not in self.config.readers]
        if unknown and not fallback:
            raise ConfigError(
                f"project.yaml: warehouse.readers: no IAM member for datamart reader(s) {', '.join(unknown)}; "
                f"add e.g. `readers: {{{unknown[0]}: group:{unknown[0]}@example.com}}` to the warehouse block "
                "(or default_reader: <member> for every reader it does not name)"
            )
        return sorted({self.config.readers.get(r) or str(fallback) for r in readers})

    def drop_schema(self, schema: str) -> None:
        self.drop_dataset(schema)

    def register_working_schema(self, schema: str, run_id: str, task_id: str, owner: str, expires_at: float) -> None:
        self.task_labels = {"run": run_id, "task": task_id}
        values = (
            f"SELECT {self.lit(schema)} AS schema_name, {self.lit(run_id)} AS run_id, {self.lit(task_id)} AS task_id, "
            f"{self.lit(owner)} AS owner, CURRENT_TIMESTAMP() AS created_at, "
            f"TIMESTAMP_MICROS({int(expires_at * 1e6)}) AS expires_at"
        )
        self.submit(
            f"MERGE {self.meta('working_schemas')} AS t USING ({values}) AS s ON t.schema_name = s.schema_name "
            "WHEN MATCHED THEN UPDATE SET run_id = s.run_id, task_id = s.task_id, owner = s.owner, "
            "created_at = s.created_at, expires_at = s.expires_at "
            "WHEN NOT MATCHED THEN INSERT (schema_name, run_id, task_id, owner, created_at, expires_at) "
            "VALUES (s.schema_name, s.run_id, s.task_id, s.owner, s.created_at, s.expires_at)",
            {**self.task_labels, "step": "register"},
        )

    def unregister_working_schema(self, schema: str) -> None:
        self.submit(self._delete("working_schemas", "schema_name", schema), {**self.task_labels, "step": "register"})

    def leftovers(self, now: float, owner_dead: Callable[[str], bool]) -> list[tuple[str, str]]:
        """``schema``: working datasets (``tr_*``) not registered or whose registration is dead;
        ``registration``: dead registrations without a dataset. Raw load tables need no sweep: the
        staging dataset's tables expire (``loads.STAGING_EXPIRY_MS``)."""
        present = {s for s in self.schemas() if s.startswith(WORK_PREFIX)}
        found = self.rows(
            f"SELECT schema_name, expires_at < TIMESTAMP_MICROS({int(now * 1e6)}), owner "
            f"FROM {self.meta('working_schemas')}"
        )
        registered = {name: bool(expired) or owner_dead(owner or "") for name, expired, owner in found}
        out = [("schema", s) for s in sorted(present) if registered.get(s, True)]
        out += [("registration", s) for s, dead in sorted(registered.items()) if dead and s not in present]
        return out

    def remove_leftover(self, kind: str, name: str) -> None:
        if kind not in ("schema", "registration"):
            raise TaskFailed(f"unknown leftover kind {kind!r} on BigQuery")
        self.drop_dataset(name)
        self.submit(self._delete("working_schemas", "schema_name", name), {"step": "sweep"})
