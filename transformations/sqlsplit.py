"""Split a SQL file into statements, keeping the line each starts on.

Handles quotes, quoted identifiers, line and block comments and dollar-quoted bodies,
so a ``;`` inside any of them does not end a statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int  # 1-based line where the statement's code starts (leading comments skipped)

    @property
    def first_line(self) -> str:
        return self.sql.strip().splitlines()[0][:120]


def _end_of_quoted(text: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == quote:
            if j + 1 < len(text) and text[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return len(text)


def split_statements(text: str) -> list[Statement]:
    out: list[Statement] = []
    start = 0
    i = 0
    meaningful = False  # anything but whitespace and comments since start
    while i < len(text):
        ch = text[i]
        if ch in "'\"`":
            i, meaningful = _end_of_quoted(text, i, ch), True
        elif text.startswith("--", i):
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        elif ch == "$" and (m := _DOLLAR.match(text, i)):
            end = text.find(m.group(0), m.end())
            i, meaningful = (len(text) if end < 0 else end + len(m.group(0))), True
        elif ch == ";":
            if meaningful:
                out.append(_statement(text, start, i))
            start, i, meaningful = i + 1, i + 1, False
        else:
            meaningful = meaningful or not ch.isspace()
            i += 1
    if meaningful:
        out.append(_statement(text, start, len(text)))
    return out


def _code_start(text: str, start: int, end: int) -> int:
    """Index of the first character that is neither blank nor inside a leading comment."""
    i = start
    while i < end:
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            nl = text.find("\n", i)
            i = end if nl < 0 else nl + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = end if close < 0 else close + 2
        else:
            return i
    return start


def _statement(text: str, start: int, end: int) -> Statement:
    """The statement from its first line of code: errors point there, not at a comment above it."""
    code = _code_start(text, start, end)
    return Statement(text[code:end].strip(), text.count("\n", 0, code) + 1)
