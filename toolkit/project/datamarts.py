"""``datamarts.yaml``: published schemas ``dm_<id>`` that BI tools read."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from headrace.project.base import Duration, Identifier, QualifiedName, Strict
from pydantic import AfterValidator, BeforeValidator, Field

# role names a reader may not take: PUBLIC (everyone), the server's own roles, Headrace's working roles
_NOT_READER_PREFIXES = ("pg_", "hr_", "headrace")


def _reader(value: str) -> str:
    if value == "public" or value.startswith(_NOT_READER_PREFIXES):
        raise ValueError(
            f"{value!r} cannot be a reader: 'public' means every login, and names starting with pg_, hr_ or "
            "headrace belong to the server or to Headrace; name the login that reads the datamart"
        )
    return value


ReaderName = Annotated[Identifier, AfterValidator(_reader)]


class DatamartTable(Strict):
    table: QualifiedName = Field(description="schema.table, e.g. out_sales.revenue_by_month")
    name: Identifier | None = Field(None, alias="as", description="name in the datamart (default: the table's)")


def _table_entry(value: Any) -> Any:
    return {"table": value} if isinstance(value, str) else value


class Datamart(Strict):
    id: Identifier
    description: str = ""
    tables: list[Annotated[DatamartTable, BeforeValidator(_table_entry)]] = Field(min_length=1)
    materialization: Literal["view", "table"] = "view"
    readers: list[ReaderName] = Field(default_factory=list, description="logins allowed to read dm_<id>")
    timeout: Duration | None = None
    retries: int | None = Field(None, ge=0, le=10)

    def entries(self) -> list[tuple[str, str]]:
        """(source 'schema.table', name in the datamart) pairs."""
        return [(item.table, item.name or item.table.split(".")[-1]) for item in self.tables]


class DatamartsFile(Strict):
    datamarts: list[Datamart] = Field(default_factory=list)
