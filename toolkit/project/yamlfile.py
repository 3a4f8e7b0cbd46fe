"""Load YAML (and JSON) keeping the line of every key, and refusing duplicate keys.

Pydantic reports a key path such as ``("tables", 1, "cursor")``; ``Document.line_of``
turns it into the line an editor can jump to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from headrace.errors import ProjectError

Loc = tuple[str | int, ...]


@dataclass
class Document:
    file: str  # relative to the project root, as shown in errors
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """Line of the deepest known prefix of ``loc`` (1-based)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int):
        self.key, self.line = key, line


def _construct(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _DuplicateKey("<<", key_node.start_mark.line + 1)
            key = yaml.SafeLoader.construct_object(_LOADER, key_node)  # scalars only
            if key in result:
                raise _DuplicateKey(str(key), key_node.start_mark.line + 1)
            lines[(*loc, key)] = key_node.start_mark.line + 1
            result[key] = _construct(value_node, (*loc, key), lines)
            lines[(*loc, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*loc, index), lines) for index, item in enumerate(node.value)]
    return yaml.SafeLoader.construct_object(_LOADER, node)


_LOADER = yaml.SafeLoader("")
# libyaml's parser composes the same nodes (with line marks) about ten times faster; a
# project of 1,000 components spent most of `headrace validate` in the pure-Python one.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> yaml.Node | None:
    """Compose with libyaml when available; on any error, again with PyYAML for its messages."""
    if _FAST_LOADER is not yaml.SafeLoader:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load_document(path: Path, root: Path) -> tuple[Document | None, list[ProjectError]]:
    """Parse one file; on failure return the errors instead of raising."""
    rel = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [ProjectError(rel, None, "", f"not UTF-8 text ({exc.reason})", "save the file as UTF-8")]
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        return None, [ProjectError(rel, line, "", f"invalid YAML: {message}", "check indentation and quoting")]
    if node is None:
        return Document(rel, None), []
    lines: dict[Loc, int] = {}
    try:
        data = _construct(node, (), lines)
    except _DuplicateKey as dup:
        return None, [
            ProjectError(rel, dup.line, dup.key, "duplicate key", "each key may appear once; remove or rename one")
        ]
    except yaml.constructor.ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        return None, [ProjectError(rel, line, "", f"invalid YAML: {exc.problem}", "use plain YAML without custom tags")]
    return Document(rel, data, lines), []


def format_loc(loc: Loc) -> str:
    """``("tables", 1, "cursor")`` -> ``tables[1].cursor``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
