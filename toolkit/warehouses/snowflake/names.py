"""Identifier case on Snowflake.

Snowflake folds unquoted identifiers to upper case: ``select id from in_sales.orders`` reads
``IN_SALES.ORDERS.ID``. Headrace's names are lowercase (``in_sales``, ``orders``), and
analysts write them unquoted. So every name Headrace writes is stored the way an unquoted
name resolves: a plain lowercase name (letters, digits, ``_``, ``$``) is quoted in upper case
(``"ORDERS"``), any other name (mixed case, spaces, quotes) is quoted as it is. Names read
back from Snowflake (information_schema, result columns) are shown in Headrace's lowercase
form where they are the upper case of a plain name, so comparisons with the project's names hold.
"""

from __future__ import annotations

import re

from headrace.sqltext import ident

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
D = "snowflake"


def stored(name: str) -> str:
    """How Snowflake holds ``name`` when Headrace creates it: ``orders`` -> ``ORDERS``."""
    return name.upper() if _PLAIN.match(name) else name


def quote(name: str) -> str:
    """``name`` quoted as stored: the same object an analyst's unquoted ``name`` reads."""
    return ident(stored(name), D)


def qualified(*names: str) -> str:
    return ".".join(quote(n) for n in names)


def shown(name: str) -> str:
    """A stored name in Headrace's form: ``ORDERS`` -> ``orders``; ``"Mixed"`` stays ``Mixed``."""
    lower = name.lower()
    return lower if name == name.upper() and _PLAIN.match(lower) else name
