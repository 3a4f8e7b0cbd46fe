"""Turn pydantic's errors into ``ProjectError`` lines a user can act on."""

from __future__ import annotations

import re
from typing import Any

from headrace.errors import ProjectError
from headrace.project.yamlfile import Document, Loc, format_loc
from pydantic import ValidationError
from pydantic_core import ErrorDetails

_FIELD_PREFIX = re.compile(r"^([a-z_]+): (.*)$", re.S)


def _clean_loc(loc: tuple[Any, ...], data: Any, exact: bool = False) -> Loc:
    """Drop parts pydantic adds that are not in the data (union tags, validator names).

    ``exact``: the loc names a value that is in the data (a mapping with an unknown key), so a
    last part that is not in the data is a union tag too (``warehouse.postgres``)."""
    out: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            node = node[part]
            out.append(part)
        elif last and not exact and isinstance(part, str | int) and not str(part).startswith(("function-", "union[")):
            out.append(part)
    return tuple(out)


def _message(err: ErrorDetails) -> tuple[str, str]:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return "required", "add this key"
    if kind == "unknown_key":
        hint = f"did you mean {ctx['suggestion']!r}? " if ctx.get("suggestion") else ""
        return "unknown key", f"{hint}allowed keys: {ctx['allowed']}"
    if kind == "union_tag_invalid":
        return f"unknown type {ctx.get('tag')!r}", f"use one of: {ctx.get('expected_tags', '')}".replace("'", "")
    if kind == "union_tag_not_found":
        return "required", "add type: ..."
    if kind == "literal_error" and err["loc"] and err["loc"][-1] == "type":  # a block with one installed plugin
        return f"unknown type {err['input']!r}", f"use one of: {ctx.get('expected', '')}".replace("'", "")
    if kind == "literal_error":
        return f"{err['input']!r} is not allowed", f"use one of: {ctx.get('expected', '')}".replace("'", "")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "expected a mapping of keys", "write key: value pairs under it"
    if kind == "list_type":
        return "expected a list", "write items as '- item' lines or [a, b]"
    if kind == "too_short":
        return "must not be empty", "list at least one item"
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg[:1].lower() + msg[1:], ""


def project_errors(doc: Document, exc: ValidationError, prefix: Loc = ()) -> list[ProjectError]:
    """``prefix``: where the validated value sits in the document (an item of a list)."""
    errors = []
    for err in exc.errors():
        loc = _clean_loc((*prefix, *err["loc"]), doc.data, exact=err["type"] == "unknown_key")
        message, hint = _message(err)
        if err["type"] == "unknown_key":
            loc = (*loc, (err.get("ctx") or {})["key"])
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "type")
        match = _FIELD_PREFIX.match(message)
        if match and err["type"] == "value_error":  # "cursor: required when ..." from a model check
            loc, message = (*loc, match.group(1)), match.group(2)
        errors.append(ProjectError(doc.file, doc.line_of(loc), format_loc(loc), message, hint))
    return errors
