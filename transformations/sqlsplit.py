"""Split a SQL file into statements, keeping each one's text and the line it starts on.

sqlglot's tokenizer for the warehouse's dialect reads the file, so a ``;`` inside a
string (``'...'``, PostgreSQL's ``E'it\\'s'``), a quoted identifier, a line or block
comment or a dollar-quoted body (``$$...$$``, ``$tag$...$tag$``) does not end a
statement. Each statement is cut from the original text, never regenerated: in the
warehouse's own dialect what runs is exactly what the analyst wrote (``transpile`` writes
statements of another dialect anew).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$[A-Za-z_]\w*\$|\$\$")


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int  # 1-based line where the statement's code starts (leading comments skipped)
    column: int = 1  # 1-based column of its first character on that line

    @property
    def first_line(self) -> str:
        return self.sql.strip().splitlines()[0][:120]


class SqlSplitError(ValueError):
    """The text cannot be read as SQL statements: a string, identifier or comment is never closed."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


def split_statements(text: str, dialect: str = "postgres") -> list[Statement]:
    """The statements of ``text`` as ``dialect`` (a sqlglot name: the file's) reads them."""
    from sqlglot import TokenType
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import TokenError

    read = Dialect.get_or_raise(dialect)
    tokenizer = read.tokenizer_class(dialect=read)
    try:
        tokens = tokenizer.tokenize(text)
    except TokenError:
        done = tokenizer.tokens  # what was read before the token that never ends
        raise _unterminated(text, done[-1].end + 1 if done else 0) from None
    spans: list[tuple[int, int]] = []  # each statement: first token's offset, end (its ';' or the text's end)
    start: int | None = None
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if start is not None:
                spans.append((start, token.start))
            start = None
        elif start is None:
            start = token.start
    if start is not None:
        spans.append((start, len(text)))
    out: list[Statement] = []
    line, counted = 1, 0  # the line of offset ``counted``: each newline is counted once
    for first, end in spans:
        line, counted = line + text.count("\n", counted, first), first
        column = first - text.rfind("\n", 0, first)  # rfind is -1 on the first line: columns count from 1
        # the original text from the first token up to the ';': comments inside and after the code stay
        out.append(Statement(text[first:end].strip(), line, column))
    return out


def _unterminated(text: str, after: int) -> SqlSplitError:
    """Name the token that starts after offset ``after`` (the last one read) and never ends."""
    at = _next_code(text, after)
    rest = text[at:]
    if rest.startswith("/*"):
        what = "block comment"
    elif tag := _DOLLAR_TAG.match(rest):
        what = f"dollar-quoted string (no closing {tag.group(0)})"
    elif rest[:1] in ('"', "`"):
        what = "quoted identifier"
    else:  # '...', E'...', B'...', U&'...'
        what = "string"
    line = text.count("\n", 0, at) + 1
    return SqlSplitError(line, f"unterminated {what} starting {rest.split(chr(10), 1)[0][:40]!r}")


def _next_code(text: str, i: int) -> int:
    """Offset of the first character at or after ``i`` outside blanks and complete comments."""
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if text.startswith("--", i):
            newline = text.find("\n", i)
            if newline < 0:
                return len(text)
            i = newline + 1
        elif text.startswith("/*", i) and (close := text.find("*/", i + 2)) >= 0:
            i = close + 2
        else:
            return i
