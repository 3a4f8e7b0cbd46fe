"""Shared pieces of the project models: strict keys with suggestions, names, durations."""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, TypeVar

from headrace.secrets import SECRET_REF
from headrace.types import parse_type
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
ID_HINT = "use lowercase letters, digits and underscores, starting with a letter"
ANY_REF = re.compile(r"\$\{([^}]*)\}")


class Strict(BaseModel):
    """Base of every project model: unknown keys are errors that name the allowed keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = {f.alias or name for name, f in cls.model_fields.items()}
            for key in data:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key {key}",
                        {"key": key, "allowed": ", ".join(sorted(allowed)), "suggestion": close[0] if close else ""},
                    )
        return data


RESOLVED = "resolved"  # validation context key: references have been substituted


def _deferred_reference(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    if isinstance(value, str) and SECRET_REF.fullmatch(value) and not (info.context or {}).get(RESOLVED):
        return value
    return handler(value)


class _ReferenceInSchema:
    """In JSON Schemas (editors), a deferred field also accepts a whole reference string."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        inner = handler(core_schema)
        reference = {"type": "string", "pattern": "^" + SECRET_REF.pattern + "$"}
        return {"anyOf": [inner, reference]}


def _secret_only(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    if (info.context or {}).get(RESOLVED):
        return handler(value)
    if not (isinstance(value, str) and value.startswith("${secret:") and SECRET_REF.fullmatch(value)):
        raise PydanticCustomError(
            "secret_only",
            "a credential is never written in project files: write a reference such as ${secret:NAME} "
            "and keep the value in a secret backend (or leave the key out to use the machine's identity)",
        )
    return value


class _SecretOnlyInSchema:
    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "pattern": r"^\$\{secret:[A-Za-z_][A-Za-z0-9_]*\}$"}


# ``SecretOnly``: a credential (an access key, a private key) that project files may only name as a
# whole ``${secret:NAME}``; its value is checked as ``str`` once a task has resolved it.
SecretOnly = Annotated[str, WrapValidator(_secret_only), _SecretOnlyInSchema()]


T = TypeVar("T")
# ``Deferred[int]``: a deployment-specific value (port, host, size, mode) that may also be a whole
# ``${secret:NAME}`` or ``${env:NAME}``. The project validates without the value; the value is
# checked against the type when a task resolves it (``model_validate(resolved, context={"resolved": True})``).
Deferred = Annotated[T, WrapValidator(_deferred_reference), _ReferenceInSchema()]


def _identifier(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise ValueError(f"{value!r} is not a valid name: {ID_HINT}")
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)?\s*$")
_UNIT = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION_S = 30 * 86400  # a bound keeps every consumer (timedelta, timers) in range


def _duration(value: Any) -> int:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"2h"``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 600, '10m' or '2h'")
    if isinstance(value, int):
        seconds = value
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration: write seconds (600) or '10m', '2h'")
        seconds = int(match.group(1)) * _UNIT[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    if seconds > MAX_DURATION_S:
        raise ValueError(f"{value!r} is longer than 30 days (the longest timeout or delay Headrace accepts)")
    return seconds


Duration = Annotated[int, BeforeValidator(_duration)]


def _type_name(value: str) -> str:
    return str(parse_type(str(value)))


TypeName = Annotated[str, AfterValidator(_type_name)]


def check_references(value: str) -> str:
    """Allow only ``${secret:NAME}`` and ``${env:NAME}`` placeholders in a string."""
    for match in ANY_REF.finditer(value):
        if not SECRET_REF.fullmatch(match.group(0)):
            raise ValueError(f"unknown reference {match.group(0)!r}: write ${{secret:NAME}} or ${{env:NAME}}")
    return value


Text = Annotated[str, AfterValidator(check_references)]


def _qualified(value: str) -> str:
    parts = value.split(".")
    if len(parts) != 2 or not all(ID_PATTERN.match(p) for p in parts):
        raise ValueError(f"{value!r}: write schema.table in lowercase, e.g. out_sales.orders")
    return value


QualifiedName = Annotated[str, AfterValidator(_qualified)]


_FRAGMENT = re.compile(r"^\d+\s*\)$")


def join_split_types(columns: Any) -> Any:
    """``{amount: decimal(10,2)}`` in YAML flow style parses as ``amount: 'decimal(10'`` plus a key
    ``2)``: name the mistake once instead of reporting two puzzling errors."""
    if isinstance(columns, dict) and any(isinstance(k, str) and _FRAGMENT.match(k) for k in columns):
        cut = [k for k, v in columns.items() if isinstance(v, str) and v.startswith("decimal(") and ")" not in v]
        name = cut[0] if cut else "the column"
        raise ValueError(
            f'{name}: the type was cut at the comma; inside {{...}} quote it, e.g. {name}: "decimal(10,2)"'
        )
    return columns
