"""Dataset access lists: datamart readers (IAM members) and a transformation's service account.

BigQuery has no logins: who may read a dataset is its access list. A datamart's dataset lists
exactly its configured readers as ``READER`` (former readers are removed); entries Headrace does
not manage (owners, writers, special groups, authorized views) are kept. A datamart of views
also authorizes its dataset on each source dataset (``targetTypes: VIEWS``), so readers query
the views without any access to the sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.warehouses.bigquery.warehouse import BigQueryWarehouse

# IAM member prefix -> access entry type (service accounts are listed by e-mail, as users)
ENTITY = {"user": "userByEmail", "group": "groupByEmail", "serviceAccount": "userByEmail", "domain": "domain"}
MEMBER_TYPES = frozenset(ENTITY.values())


def entry(role: str, member: str) -> Any:
    from google.cloud.bigquery import AccessEntry

    kind, _, who = member.partition(":")
    return AccessEntry(role, ENTITY[kind], who)


def _dataset(wh: BigQueryWarehouse, schema: str) -> Any:
    return wh.client.get_dataset(f"{wh.config.project}.{wh.dataset(schema)}")


def set_members(wh: BigQueryWarehouse, schema: str, role: str, members: Sequence[str]) -> None:
    """``members`` hold ``role`` on the dataset, and no other member of those types does."""
    dataset = _dataset(wh, schema)
    kept = [e for e in dataset.access_entries if not (e.role == role and e.entity_type in MEMBER_TYPES)]
    dataset.access_entries = kept + [entry(role, m) for m in members]
    wh.client.update_dataset(dataset, ["access_entries"])


def authorize_views(wh: BigQueryWarehouse, schema: str, source_schemas: Sequence[str]) -> None:
    """The views of ``schema`` may read the tables of each source dataset."""
    from google.cloud.bigquery import AccessEntry, DatasetReference

    reference = {
        "dataset": DatasetReference(wh.config.project, wh.dataset(schema)).to_api_repr(),
        "targetTypes": ["VIEWS"],
    }
    for source in sorted(set(source_schemas)):
        dataset = _dataset(wh, source)
        if any(e.entity_type == "dataset" and e.entity_id == reference for e in dataset.access_entries):
            continue
        dataset.access_entries = [*dataset.access_entries, AccessEntry(None, "dataset", reference)]
        wh.client.update_dataset(dataset, ["access_entries"])


def grant_readers(
    wh: BigQueryWarehouse, schema: str, members: Sequence[str], sources: Sequence[str], materialization: str
) -> None:
    set_members(wh, schema, "READER", members)
    if materialization == "view":
        authorize_views(wh, schema, [s.split(".")[0] for s in sources])
