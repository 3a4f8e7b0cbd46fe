"""SQL text: identifiers, string literals and generated names, quoted by sqlglot for a dialect.

Every piece of SQL Headrace writes with a name or a value in it quotes through here, so a
table called ``order "items"`` or a value with a quote means the same on every warehouse.
``dialect`` is a sqlglot dialect name (``Capabilities.dialect``: duckdb, postgres, ...).
"""

from __future__ import annotations

import hashlib

from sqlglot import exp


def ident(name: str, dialect: str) -> str:
    """``name`` as a quoted identifier (embedded quotes doubled, case and spaces kept)."""
    return exp.to_identifier(name, quoted=True).sql(dialect)


def qualified(schema: str, table: str, dialect: str) -> str:
    """``schema.table`` with both parts quoted."""
    return f"{ident(schema, dialect)}.{ident(table, dialect)}"


def literal(value: str, dialect: str) -> str:
    """``value`` as a string literal. PostgreSQL cannot hold a NUL character: refused with a ValueError."""
    if "\x00" in value and dialect == "postgres":
        raise ValueError("a NUL character cannot be sent to PostgreSQL")
    return exp.Literal.string(value).sql(dialect)


def short_name(prefix: str, name: str, max_bytes: int) -> str:
    """``prefix + name``, cut to ``max_bytes`` bytes with a hash suffix when longer (unique per name)."""
    full = prefix + name
    if len(full.encode()) <= max_bytes:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:8]
    return full.encode()[: max_bytes - 9].decode(errors="ignore") + "_" + digest


def fragment_problem(text: str, dialect: str, kind: str) -> str | None:
    """Why ``text`` cannot be pasted into generated SQL as one ``kind`` ("condition" or "query"), or None.

    Headrace wraps a user's ``filter`` as ``WHERE (<filter>\\n)`` and a ``query`` as
    ``FROM (<query>\\n) AS q``. A fragment that closes a parenthesis it did not open, ends the
    statement with ``;`` or leaves a string or comment open would change the SQL around it:
    it is refused when the project is validated. This keeps the generated statement what it
    says it is; what the source user may read is still decided by its grants.
    """
    from sqlglot import TokenType
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import TokenError

    read = Dialect.get_or_raise(dialect)
    try:
        tokens = read.tokenizer_class(dialect=read).tokenize(text)
    except TokenError:
        return "a string, quoted name or comment is not closed"
    if kind == "query":
        while tokens and tokens[-1].token_type == TokenType.SEMICOLON:  # one trailing ';' is fine
            tokens = tokens[:-1]
    if not tokens:
        return "is empty"
    if kind == "query" and tokens[0].token_type not in (
        TokenType.SELECT,
        TokenType.WITH,
        TokenType.VALUES,
        TokenType.TABLE,
        TokenType.L_PAREN,
    ):
        return f"must be one SELECT (or WITH ... SELECT), not {tokens[0].text.upper()}"
    depth = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            return f"holds more than one statement (';' at line {token.line}); write one {kind}"
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if depth < 0:
            return f"closes a parenthesis it did not open (line {token.line}); write one {kind}"
    if depth:
        return "leaves a parenthesis open"
    return None
