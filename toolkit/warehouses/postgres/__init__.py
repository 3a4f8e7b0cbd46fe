"""PostgreSQL as a warehouse: COPY loads, atomic swaps, working schemas under their own role,
datamarts with read-only logins. psycopg is imported only when a connection opens."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headrace.warehouses.postgres.warehouse import PostgresWarehouse


def open(config: dict[str, Any], state_dir: Path) -> PostgresWarehouse:
    from headrace.warehouses.postgres.warehouse import PostgresWarehouse

    return PostgresWarehouse(config)
