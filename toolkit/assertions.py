"""SQL assertions: a transformation file whose rows say whether the data is fit to publish.

An assertion file is one query with a ``message`` column (docs/transformations.md, "Assertions").
A row whose message starts with ``ERROR`` fails the task, one starting with ``WARNING`` warns;
leading spaces are ignored and case does not matter; other rows (and NULL messages) say nothing.
A file is an assertion when its name ends ``.assert.sql`` or ``transformation.yaml`` lists it under
``assertions:``.

The SQL transformation (``transformations/sql.py``) and ``headrace sandbox run`` both run them:
the query runs in the transformation's own confined session (or the sandbox's), in name order
with the other files, wrapped in a query that keeps only ERROR and WARNING rows, counts them, and returns at most
``SHOWN`` messages of each: the warehouse never sends the whole result, however large.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from headrace.errors import ProjectError, TaskFailed
from headrace.project.manifest import SqlStatement
from headrace.warehouses.base import SandboxSession, StatementFailed, TransformationSession

SUFFIX = ".assert.sql"
SHOWN = 10  # messages of each kind listed in the task's error or result; the rest are counted
MESSAGE_CHARS = 500  # a longer message is cut there
_QUERY_START = re.compile(r"(select|with|values|from|table)\b|\(", re.IGNORECASE)
_COMMENTS = re.compile(r"\s*(--[^\n]*(\n|$)|/\*.*?\*/)", re.DOTALL)
_TEXT = {"bigquery": "STRING"}  # the type a message is cast to; VARCHAR elsewhere

WRAPPER = """SELECT hr_kind, hr_message, hr_total FROM (
  SELECT hr_kind, hr_message,
    COUNT(*) OVER (PARTITION BY hr_kind) AS hr_total,
    ROW_NUMBER() OVER (PARTITION BY hr_kind ORDER BY hr_message) AS hr_n
  FROM (
    SELECT CASE WHEN UPPER(LTRIM(hr_text)) LIKE 'ERROR%' THEN 'ERROR'
                WHEN UPPER(LTRIM(hr_text)) LIKE 'WARNING%' THEN 'WARNING' END AS hr_kind,
      hr_text AS hr_message
    FROM (SELECT CAST(message AS {text}) AS hr_text FROM (
{query}
) AS hr_assertion) AS hr_messages
  ) AS hr_rows
  WHERE hr_kind IS NOT NULL
) AS hr_kinds
WHERE hr_n <= {shown}"""


@dataclass
class Outcome:
    """What an assertion file found: counts and the first messages of each kind."""

    counts: dict[str, int] = field(default_factory=lambda: {"ERROR": 0, "WARNING": 0})
    messages: dict[str, list[str]] = field(default_factory=lambda: {"ERROR": [], "WARNING": []})


def is_assertion(name: str, declared: list[str]) -> bool:
    return name.endswith(SUFFIX) or name in declared


def check_file(where: str, statements: list[SqlStatement]) -> ProjectError | None:
    """An assertion file is exactly one query; anything else is an error of the project."""
    if len(statements) != 1:
        line = statements[1].line if len(statements) > 1 else None
        found = f"{len(statements)} statements" if statements else "no statement"
        hint = "keep one query (SELECT ... AS message) in it; other statements go in a file of their own"
        return ProjectError(where, line, "", f"an assertion file holds exactly one query, this one has {found}", hint)
    sql = _COMMENTS.sub("", statements[0].sql).lstrip()
    if not _QUERY_START.match(sql):
        first = sql.splitlines()[0][:60] if sql else ""
        hint = "an assertion only reads: write SELECT ... AS message, ... FROM ...; make tables in other files"
        return ProjectError(where, statements[0].line, "", f"an assertion file holds a query, not {first!r}", hint)
    return None


def wrapped(query: str, dialect: str) -> str:
    """``query`` inside the query that keeps, counts and caps its ERROR and WARNING rows."""
    # the user's query on lines of its own: a trailing -- comment cannot swallow the wrapper
    return WRAPPER.format(query=query.strip().rstrip(";"), text=_TEXT.get(dialect, "VARCHAR"), shown=SHOWN)


def evaluate(
    session: TransformationSession | SandboxSession, where: str, statement: SqlStatement, dialect: str
) -> Outcome:
    """Run the assertion; what it found. A missing ``message`` column is a ``TaskFailed`` naming the file."""
    try:
        _, rows = session.query(wrapped(statement.sql, dialect), 2 * SHOWN)
    except StatementFailed as exc:
        columns = _columns(session, statement.sql)
        if columns is not None and "message" not in [c.lower() for c in columns]:
            raise TaskFailed(
                f"{where}: an assertion query returns a column named message, and this one returns "
                f"{', '.join(columns) or 'no column'}\n  (write ... AS message: rows whose message starts with "
                "ERROR fail the task, WARNING warns)"
            ) from exc
        raise
    outcome = Outcome()
    for kind, message, total in sorted(rows, key=lambda r: (r[0], str(r[1]))):  # the first messages, in order
        outcome.counts[kind] = int(total)
        text = str(message).strip()
        outcome.messages[kind].append(text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS] + "...")
    return outcome


def _columns(session: TransformationSession | SandboxSession, query: str) -> list[str] | None:
    """The query's column names, or None when the query itself fails (its own error is reported then)."""
    try:
        columns, _ = session.query(query.strip().rstrip(";"), 0)
    except StatementFailed:
        return None
    return columns


def report(file: str, where: str, outcome: Outcome, log: Callable[[str], None]) -> list[str]:
    """Log the file's warnings; raise ``TaskFailed`` listing its errors. The warnings, for the task's result."""
    warnings = [f"{file}: {m}" for m in outcome.messages["WARNING"]]
    more = outcome.counts["WARNING"] - len(warnings)
    if more > 0:
        warnings.append(f"{file}: ... and {more:,} more WARNING row(s)")
    for line in warnings:
        log(f"warning: {line}")
    errors = outcome.counts["ERROR"]
    if errors:
        listed = "\n".join(f"  {m}" for m in outcome.messages["ERROR"])
        shown = len(outcome.messages["ERROR"])
        rest = f"\n  ... and {errors - shown:,} more" if errors > shown else ""
        raise TaskFailed(
            f"{where}: the assertion failed with {errors:,} ERROR row(s); nothing was published\n{listed}{rest}"
        )
    counts = f"{outcome.counts['WARNING']:,} warning(s)" if outcome.counts["WARNING"] else "passed"
    log(f"{file}: assertion {counts}")
    return warnings
