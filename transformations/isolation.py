"""Find tables a SQL statement reads from outside its working schema.

Warehouses with roles (Postgres) also enforce this with grants; on DuckDB this check is
what keeps a transformation to its declared inputs.
"""

from __future__ import annotations

SYSTEM_SCHEMAS = {"information_schema", "pg_catalog"}


def foreign_tables(sql: str, dialect: str, allowed_schemas: set[str]) -> list[str]:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except ParseError:
        return []  # the warehouse reports syntax errors better than we could
    found = []
    for table in tree.find_all(exp.Table):
        schema = table.db
        if schema and schema not in allowed_schemas | SYSTEM_SCHEMAS and not table.catalog:
            found.append(f"{schema}.{table.name}")
        elif table.catalog:
            found.append(".".join(p for p in (table.catalog, schema, table.name) if p))
    return sorted(set(found))
