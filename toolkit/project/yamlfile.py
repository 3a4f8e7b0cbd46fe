"""Load YAML (and JSON) keeping the line of every key, and refusing duplicate keys.

Pydantic reports a key path such as ``("tables", 1, "cursor")``; ``Document.line_of``
turns it into the line an editor can jump to.

The loader's limits (docs/project-format.md, "Limits"): the file itself through
``headrace.project.textfile`` (size, UTF-8, NUL bytes, symlinks), nesting at most
``MAX_DEPTH`` levels, and anchors/aliases expanding to at most ``ALIAS_BUDGET`` values
beyond the file's own (a "billion laughs" file is refused before anything walks it).
``.json`` files are strict JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from headrace.errors import ProjectError
from headrace.project.textfile import MAX_YAML_BYTES, read_project_text

Loc = tuple[str | int, ...]
MAX_DEPTH = 50  # nested mappings/lists; the deepest project file needs about 6
ALIAS_BUDGET = 10_000  # values that aliases may add beyond the nodes written in the file


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


class _Refused(Exception):
    """A file the loader will not build: key, line, message and hint for the ``ProjectError``."""

    def __init__(self, line: int | None, message: str, hint: str, key: str = ""):
        super().__init__(message)
        self.line, self.message, self.hint, self.key = line, message, hint, key


def _too_deep(line: int | None) -> _Refused:
    return _Refused(line, f"nested more than {MAX_DEPTH} levels deep", "flatten the structure")


class _Builder:
    """Python values from composed nodes, counting every value built against a budget."""

    def __init__(self, budget: int):
        self.lines: dict[Loc, int] = {}
        self.left = budget

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.left -= 1
        line = node.start_mark.line + 1
        if self.left < 0:
            hint = "write the values out instead of repeating anchors (&name) and aliases (*name)"
            raise _Refused(line, f"aliases expand to more than {ALIAS_BUDGET:,} values", hint)
        self.lines[loc] = line
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, index)) for index, item in enumerate(node.value)]
        return _scalar(node)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(line, "duplicate key", "each key may appear once; remove or rename one", "<<")
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(line, "a key must be a plain value, not a list or mapping", "write key: value")
            key = _scalar(key_node)
            if key in result:
                raise _Refused(line, "duplicate key", "each key may appear once; remove or rename one", str(key))
            self.lines[(*loc, key)] = line
            result[key] = self.build(value_node, (*loc, key))
            self.lines[(*loc, key)] = line
        return result


def _scalar(node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_object(_LOADER, node)
    except (ValueError, OverflowError) as exc:  # a 5,000-digit number, a 13th month
        line = node.start_mark.line + 1
        reason = str(exc).split(":")[0][:80]
        raise _Refused(line, f"invalid value ({reason})", "quote it to keep it as text") from None


_LOADER = yaml.SafeLoader("")
# libyaml's parser composes the same nodes (with line marks) about ten times faster; a
# project of 1,000 components spent most of `headrace validate` in the pure-Python one.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STARTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_ENDS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _measure(text: str, loader: Any) -> int:
    """Nodes written in the file (before any alias expands); ``_Refused`` past ``MAX_DEPTH``.

    Reads the event stream, which both parsers produce without recursion, so a 5,000-deep
    file is refused here before a recursive composer meets it.
    """
    depth = nodes = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, _STARTS):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(event.start_mark.line + 1 if event.start_mark else None)
        elif isinstance(event, _ENDS):
            depth -= 1
        if isinstance(event, (*_STARTS, yaml.ScalarEvent)):
            nodes += 1
    return nodes


def _compose(text: str) -> yaml.Node | None:
    """Compose with libyaml when available; on any error, again with PyYAML for its messages."""
    if _FAST_LOADER is not yaml.SafeLoader:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _yaml_error(rel: str, exc: yaml.YAMLError, text: str) -> ProjectError:
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.reader.ReaderError):  # a control character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = f"invalid YAML: control character U+{code:04X} at line {line}"
        return ProjectError(rel, line, "", message, "remove it; YAML allows tabs and line breaks only")
    if isinstance(exc, yaml.constructor.ConstructorError):
        line = mark.line + 1 if mark else None
        return ProjectError(rel, line, "", f"invalid YAML: {exc.problem}", "use plain YAML without custom tags")
    parts = (getattr(exc, "context", None), getattr(exc, "problem", None))
    message = " ".join(str(part) for part in parts if part) or str(exc)
    line = mark.line + 1 if mark else None
    return ProjectError(rel, line, "", f"invalid YAML: {message}", "check indentation and quoting")


def parse_yaml(text: str, rel: str) -> tuple[Document | None, list[ProjectError]]:
    """``text`` (the file ``rel``) as a document within the limits, or its errors."""
    try:
        try:
            nodes = _measure(text, _FAST_LOADER)
        except yaml.YAMLError:  # PyYAML's message is the clearer one: read the events again to raise it
            nodes = _measure(text, yaml.SafeLoader)
        node = _compose(text)
        if node is None:
            return Document(rel, None), []
        builder = _Builder(nodes + ALIAS_BUDGET)
        data = builder.build(node, ())
    except _Refused as exc:
        return None, [ProjectError(rel, exc.line, exc.key, exc.message, exc.hint)]
    except yaml.YAMLError as exc:
        return None, [_yaml_error(rel, exc, text)]
    finally:
        _LOADER.constructed_objects.clear()  # the shared constructor caches every scalar it built
    return Document(rel, data, builder.lines), []


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(None, "duplicate key", "each key may appear once; remove or rename one", key)
        result[key] = value
    return result


def _constant(name: str) -> Any:
    raise _Refused(None, f"{name} is not JSON", "write a number or a string")


def _depth_over(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def parse_json(text: str, rel: str) -> tuple[Document | None, list[ProjectError]]:
    """Strict JSON (no trailing commas, comments, NaN or duplicate keys); lines from YAML where it can."""
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
        if _depth_over(data, MAX_DEPTH):
            raise _too_deep(None)
    except _Refused as exc:
        return None, [ProjectError(rel, exc.line, exc.key, exc.message, exc.hint)]
    except json.JSONDecodeError as exc:
        message = f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        return None, [ProjectError(rel, exc.lineno, "", message, "JSON allows no trailing commas or comments")]
    except RecursionError:
        return None, [ProjectError(rel, None, "", f"nested more than {MAX_DEPTH} levels deep", "flatten it")]
    except ValueError as exc:  # a number of more than 4,300 digits
        reason = str(exc).split(":")[0][:80]
        return None, [ProjectError(rel, None, "", f"invalid JSON ({reason})", "write a shorter number")]
    located, _ = parse_yaml(text, rel)  # JSON is (nearly always) YAML: the same nodes give key lines
    return Document(rel, data, located.lines if located else {}), []


def load_document(path: Path, root: Path) -> tuple[Document | None, list[ProjectError]]:
    """Parse one file; on failure return the errors instead of raising."""
    text, error = read_project_text(path, root, MAX_YAML_BYTES)
    rel = path.relative_to(root).as_posix()
    if text is None:
        return None, [error] if error else []
    if path.suffix == ".json":
        return parse_json(text, rel)
    return parse_yaml(text, rel)


def format_loc(loc: Loc) -> str:
    """``("tables", 1, "cursor")`` -> ``tables[1].cursor``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
