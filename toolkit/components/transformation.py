"""What every transformation type shares: declared inputs and outputs (DESIGN §4).

A transformation plugin's config model extends ``TransformationConfig`` with its own
``type`` (``Literal["sql"]``, ``Literal["dbt"]``, ...). The compiler derives the working
and output schemas and each input's name from these fields, once.
"""

from __future__ import annotations

from typing import Annotated, Any

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


class TransformationConfig(Strict):
    type: str
    description: str = ""
    inputs: list[Annotated[TransformationInput, BeforeValidator(_input_entry)]] = Field(default_factory=list)
    outputs: list[Identifier] = Field(min_length=1, description="tables written to out_<id>")
    timeout: Duration | None = None
    retries: int | None = Field(None, ge=0, le=10)
