"""Names in a secret manager: ``${secret:NAME}`` and the names of credentials Headrace creates.

A ``${secret:NAME}`` is looked up as ``<prefix><NAME>`` (Azure: lower case, ``_`` as
``-``, which Key Vault requires), so users can predict it. Headrace's own credentials have
names such as ``postgres-reader/db.internal:5432/bi``: characters a manager does not allow
become ``-``, and a short hash of the original name keeps two such names apart.
"""

from __future__ import annotations

import hashlib
import re


def store_name(name: str, allowed: str) -> str:
    """``name`` as it is when every character matches the class ``allowed``; else a safe slug plus a hash."""
    slug = re.sub(f"[^{allowed}]+", "-", name).strip("-")
    if slug == name:
        return name
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"
