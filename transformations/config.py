"""``transformations/<id>/transformation.yaml``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from headrace.project.base import Duration, Identifier, QualifiedName, Strict
from pydantic import BeforeValidator, Field


class TransformationInput(Strict):
    table: QualifiedName = Field(description="schema.table read by the transformation, e.g. in_crm.orders")
    name: Identifier | None = Field(None, alias="as", description="name the SQL uses (default: the table's)")

    @property
    def local_name(self) -> str:
        return self.name or self.table.split(".")[1]


def _input_entry(value: Any) -> Any:
    return {"table": value} if isinstance(value, str) else value


class SqlTransformationConfig(Strict):
    """SQL files ``NN_name.sql`` beside this file run in name order in a fresh working schema."""

    type: Literal["sql"] = "sql"
    description: str = ""
    inputs: list[Annotated[TransformationInput, BeforeValidator(_input_entry)]] = Field(default_factory=list)
    outputs: list[Identifier] = Field(min_length=1, description="tables written to out_<id>")
    timeout: Duration | None = None
    retries: int | None = Field(None, ge=0, le=10)
