"""Transpile a SQL transformation from the dialect it is written in to the warehouse's (DESIGN §4).

Runs at compile time; only dialect names are needed (sqlglot's), never a warehouse or its
driver. A file is split into statements in its own dialect (``sqlsplit``); each statement is
parsed by sqlglot and written in the warehouse's dialect, so the manifest keeps the line
each statement starts on in the analyst's file. When the file's dialect is the warehouse's,
its statements are passed through as written: no reformatting, nothing parsed.

What cannot be transpiled is refused with the file's line and column: SQL that does not
parse in the declared dialect, a statement sqlglot reads only as opaque text (it would be
sent unchanged to another warehouse), and constructs sqlglot reports as unsupported in the
target (``unsupported_level=RAISE``).

Transpiled SQL quotes every identifier, written the way the warehouse holds the names
Headrace creates: unquoted names are lower-cased first (Headrace's names are lower case, which
unquoted names mean on DuckDB and PostgreSQL, and which BigQuery's case-sensitive table names
need), and on Snowflake a plain lower-case name is then written in upper case, as the Snowflake
warehouse stores it (``headrace.warehouses.snowflake.names``: an analyst's unquoted
``orders`` there reads ``ORDERS``). Other quoted names are kept as written.
A few constructs sqlglot writes verbatim although the target rejects or changes them are
rewritten here (``_FIXES``, per target dialect).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from headrace.transformations.sqlsplit import Statement, split_statements
from sqlglot import exp


@dataclass(frozen=True)
class TranspileError(Exception):
    """A statement that cannot be written in the target dialect: where, why and what to do."""

    line: int
    column: int
    message: str
    hint: str


def transpile_file(text: str, source: str, target: str) -> list[Statement]:
    """The statements of ``text`` (written in ``source``) in ``target``; ``SqlSplitError`` or
    ``TranspileError`` when that cannot be done."""
    statements = split_statements(text, source)
    if source == target:
        return statements
    return [Statement(transpile_statement(s, source, target), s.line, s.column) for s in statements]


def transpile_statement(statement: Statement, source: str, target: str) -> str:
    """One statement of ``source`` written in ``target`` (pretty-printed, identifiers quoted)."""
    from sqlglot import parse
    from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError

    try:
        with _quiet_sqlglot():
            trees = parse(statement.sql, read=source)
    except ParseError as exc:
        raise _parse_error(statement, source, exc) from None
    except TokenError as exc:  # the splitter read it already: not expected, but never a traceback
        raise TranspileError(statement.line, statement.column, f"cannot be read as {source} SQL: {exc}", "") from None
    except RecursionError:
        raise _too_deep(statement) from None
    tree = next((t for t in trees if t is not None), None)
    if tree is None:
        return statement.sql
    if isinstance(tree, exp.Condition | exp.Alias):  # e.g. "CLUSTER t" read as the column cluster AS t
        raise TranspileError(
            statement.line,
            statement.column,
            f"sqlglot reads this as an expression, not a statement, in {source}",
            f"write a statement (CREATE TABLE ... AS SELECT ...), or write the transformation in {target}'s SQL "
            f"with dialect: {target}",
        )
    if isinstance(tree, exp.Command):  # sqlglot kept it as opaque text: it would run unchanged on the target
        keyword = str(tree.this).upper()
        raise TranspileError(
            statement.line,
            statement.column,
            f"sqlglot cannot transpile this {keyword} statement from {source} to {target}",
            f"rewrite it, or write the transformation in {target}'s SQL with dialect: {target}",
        )
    tree = _names_as_stored(tree, target)
    try:
        for fix in _FIXES.get(target, ()):
            tree = tree.transform(fix, copy=False)
        return tree.sql(dialect=target, pretty=True, identify=True, unsupported_level=ErrorLevel.RAISE)
    except RecursionError:
        raise _too_deep(statement) from None
    except UnsupportedError as exc:
        raise TranspileError(
            statement.line,
            statement.column,
            f"cannot be transpiled from {source} to {target}: {exc}",
            f"rewrite it without that construct, or write the transformation in {target}'s SQL with dialect: {target}",
        ) from None


def _parse_error(statement: Statement, source: str, exc: Exception) -> TranspileError:
    """The first parse error, at its line and column in the file (sqlglot counts in the statement)."""
    first = (getattr(exc, "errors", None) or [{}])[0]
    line_in, end_col = first.get("line") or 1, first.get("col") or 1
    near = str(first.get("highlight") or "")
    column = max(end_col - len(near) + 1, 1)  # sqlglot gives the column where the token ends
    if line_in == 1:
        column += statement.column - 1
    description = str(first.get("description") or exc).split("\n")[0]
    description = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", description)  # <class 'sqlglot...EQ'> -> EQ
    message = f"cannot be read as {source} SQL: {description}" + (f" near {near!r}" if near else "")
    return TranspileError(
        statement.line + line_in - 1,
        column,
        message,
        "fix the SQL, or declare the dialect it is written in with dialect: in transformation.yaml",
    )


def _too_deep(statement: Statement) -> TranspileError:
    return TranspileError(
        statement.line, statement.column, "is nested too deeply to be transpiled", "split it into simpler statements"
    )


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning where it keeps a statement as opaque text: that is an error here instead."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")  # the names Snowflake's warehouse stores in upper case


def _names_as_stored(tree: exp.Expr, target: str) -> exp.Expr:
    for identifier in tree.find_all(exp.Identifier):
        name = identifier.name if identifier.quoted else identifier.name.lower()
        if target == "snowflake" and _PLAIN.match(name):
            name = name.upper()
        identifier.set("this", name)
    return tree


def _expand_group_by_all(node: exp.Expr) -> exp.Expr:
    """``GROUP BY ALL`` (DuckDB, Snowflake, BigQuery) as the positions of the non-aggregate columns:
    PostgreSQL reads ``GROUP BY ALL`` as an empty grouping-set modifier and refuses it."""
    from sqlglot.optimizer.helpers import is_implicit_group_by_all, projection_has_aggregate

    if not isinstance(node, exp.Select) or not is_implicit_group_by_all(node):
        return node
    if node.is_star:
        raise _unsupported("GROUP BY ALL with SELECT *", "postgres")
    keys = [exp.Literal.number(i) for i, p in enumerate(node.expressions, 1) if not projection_has_aggregate(p)]
    node.set("group", exp.Group(expressions=keys) if keys else None)
    return node


def _round_numeric(node: exp.Expr) -> exp.Expr:
    """``round(x, n)``: PostgreSQL has it for ``numeric`` only (DuckDB, BigQuery, Snowflake also for floats)."""
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        node.set("this", exp.cast(node.this, exp.DataType.build("DECIMAL")))
    return node


def _round_decimal_casts(node: exp.Expr) -> exp.Expr:
    """``CAST(x AS DECIMAL(p, s))`` rounds to ``s`` decimals; sqlglot writes BigQuery's NUMERIC without
    (p, s), which keeps 9: the rounding is written out."""
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DType.DECIMAL) and node.to.expressions:
        params = [p.this for p in node.to.expressions]
        scale = params[1] if len(params) > 1 else exp.Literal.number(0)
        if isinstance(node.parent, exp.Round):
            return node
        return exp.Round(this=node, decimals=scale.copy())
    return node


def _unsupported(construct: str, target: str) -> Exception:
    from sqlglot.errors import UnsupportedError

    return UnsupportedError(f"{construct} is not supported by {target}")


# target dialect -> rewrites applied before sqlglot writes the tree (only when transpiling)
_FIXES: dict[str, tuple[Callable[[exp.Expr], exp.Expr], ...]] = {
    "postgres": (_expand_group_by_all, _round_numeric),
    "bigquery": (_round_decimal_casts,),
}
