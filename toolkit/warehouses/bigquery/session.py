"""A transformation's working dataset on BigQuery (``BigQueryWarehouse.transformation_session``).

The warehouse's identity creates ``tr_<id>_<run>`` and puts each declared input in it as a
table clone (zero-copy, ``capabilities.clones``) or a copy, never as a view: a view would read
its source with the reader's rights, which the transformation must not have. The SQL runs
with the working dataset as its default dataset. With ``transformation_service_account``
it runs as that account (impersonated), which the working dataset's access list names as
its only ``WRITER``: BigQuery itself then refuses every other dataset (the account holds
``roles/bigquery.jobUser`` on the project and no data role anywhere, see docs/bigquery.md).
Outputs are published by the warehouse's identity after the SQL ended: plain tables are
copied; a view is first materialised with the transformation's own rights. The dataset is
dropped afterwards, also on failure; its tables expire by themselves if a kill prevents that.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from headrace.errors import TaskFailed
from headrace.warehouses.base import SessionLogin, StatementFailed, TransformationSession, capped
from headrace.warehouses.bigquery import access, client

if TYPE_CHECKING:
    from headrace.warehouses.bigquery.warehouse import BigQueryWarehouse

EXPIRY_MARGIN_S = 3600
DEFAULT_TIMEOUT_S = 24 * 3600
PUBLISH_PREFIX = "_hr_publish_"


class BigQuerySession(TransformationSession):
    def __init__(self, warehouse: BigQueryWarehouse, schema: str, sql_client: Any, labels: dict[str, str]):
        self.warehouse = warehouse
        self.schema = schema
        self.client = sql_client
        self.labels = labels

    def execute(self, sql: str) -> None:
        self._run(sql)

    def query(self, sql: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
        result = self._run(capped(sql, limit), limit)
        return [f.name for f in result.schema or []], [tuple(r.values()) for r in result]

    def _run(self, sql: str, max_results: int | None = None) -> Any:
        wh = self.warehouse
        from google.api_core.exceptions import GoogleAPICallError

        config = wh.job_config(
            "QueryJobConfig",
            {**self.labels, "step": "transformation"},
            default_dataset=f"{wh.config.project}.{wh.dataset(self.schema)}",
        )
        if self.client is None:
            raise TaskFailed("the transformation's SQL already ended: nothing more runs in its session")
        try:
            job = self.client.query(sql, job_config=config, location=wh.config.location)
            return job.result(timeout=float(wh.config.job_timeout), max_results=max_results)
        except GoogleAPICallError as exc:
            raise StatementFailed(message_of(exc), kind_of(exc)) from exc

    def table_exists(self, name: str) -> bool:
        return self.warehouse.table_exists(self.schema, name)

    @contextmanager
    def login(self, connections: int) -> Iterator[SessionLogin]:
        yield dbt_login(self.warehouse.config, self.warehouse.dataset(self.schema))

    def publish(self, target_schema: str, tables: Sequence[str]) -> dict[str, int]:
        wh = self.warehouse
        kinds = wh.relations(self.schema)
        sources = {}
        for table in tables:
            if kinds.get(table) == "TABLE":
                sources[table] = table
                continue
            copy = f"{PUBLISH_PREFIX}{table}"  # with the transformation's rights, not the warehouse's
            made, read = wh.qualified(self.schema, copy), wh.qualified(self.schema, table)
            self.execute(f"CREATE OR REPLACE TABLE {made} AS SELECT * FROM {read}")
            sources[table] = copy
        self.client = None  # the SQL has ended: the warehouse identity copies
        return wh.publish_relations(self.schema, target_schema, sources)


def message_of(exc: Any) -> str:
    """BigQuery's own message, first line, without the HTTP request."""
    errors = getattr(exc, "errors", None) or []
    message = errors[0].get("message") if errors and isinstance(errors[0], dict) else None
    text = str(message or getattr(exc, "message", "") or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def kind_of(exc: Any) -> Literal["denied", "missing"] | None:
    from google.api_core.exceptions import Forbidden, NotFound

    reasons = {e.get("reason") for e in (getattr(exc, "errors", None) or []) if isinstance(e, dict)}
    if isinstance(exc, Forbidden) or "accessDenied" in reasons:
        return "denied"
    if isinstance(exc, NotFound) or "notFound" in reasons:
        return "missing"
    return None


@contextmanager
def transformation_session(
    wh: BigQueryWarehouse, schema: str, inputs: dict[str, str], timeout_s: float | None
) -> Iterator[BigQuerySession]:
    labels = {**wh.task_labels, "schema": schema}
    life_s = int(timeout_s or DEFAULT_TIMEOUT_S) + EXPIRY_MARGIN_S
    try:
        wh.drop_dataset(schema)  # a leftover of the same name
        wh.ensure_dataset(schema, expiry_ms=life_s * 1000)
        for name, source in inputs.items():
            put_input(wh, schema, name, source, labels)
        sql_client = wh.client
        account = wh.config.transformation_service_account
        if account:
            if wh.config.emulator:
                raise TaskFailed("warehouse.transformation_service_account needs BigQuery itself (crucible has no IAM)")
            access.set_members(wh, schema, "WRITER", [f"serviceAccount:{account}"])
            sql_client = client.impersonated(wh.config, wh.credentials, account, life_s)
        yield BigQuerySession(wh, schema, sql_client, labels)
    finally:
        wh.drop_dataset(schema)


def dbt_login(config: Any, dataset: str) -> SessionLogin:
    """How dbt logs in to a working dataset: application-default credentials impersonating
    ``transformation_service_account`` (the identity the dataset's access list confines). A key in
    ``credentials_json`` would have to be written to a file for dbt: refused."""
    if config.credentials_json or not config.transformation_service_account:
        raise TaskFailed(
            "dbt on BigQuery logs in as warehouse.transformation_service_account, impersonated with the "
            "machine's application-default credentials: set it, and leave credentials_json out (docs/bigquery.md)"
        )
    settings: dict[str, Any] = {
        "method": "oauth",
        "project": config.project,
        "dataset": dataset,
        "location": config.location,
        "job_execution_timeout_seconds": int(config.job_timeout),
        "impersonate_service_account": config.transformation_service_account,
    }
    return SessionLogin(settings, {}, dataset)


def put_input(wh: BigQueryWarehouse, schema: str, name: str, source: str, labels: dict[str, str]) -> None:
    """``source`` (schema.table) as ``name`` in the working dataset: a clone, or a copy."""
    src_schema, src_table = source.split(".")
    if wh.capabilities.clones:
        config = wh.job_config("CopyJobConfig", {**labels, "step": "input"}, operation_type="CLONE")
        job = wh.client.copy_table(
            f"{wh.config.project}.{wh.dataset(src_schema)}.{src_table}",
            f"{wh.config.project}.{wh.dataset(schema)}.{name}",
            job_config=config,
            location=wh.config.location,
        )
        job.result(timeout=float(wh.config.job_timeout))
        return
    wh.submit(
        f"CREATE TABLE {wh.qualified(schema, name)} AS SELECT * FROM {wh.qualified(src_schema, src_table)}",
        {**labels, "step": "input"},
    )
