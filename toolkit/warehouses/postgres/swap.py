"""Replace a table by a fully loaded staging table, inside the caller's transaction.

Readers see the old table or the new one, never a mix. Three cases:

- no views depend on the target: drop it and rename the stage (instant), keeping the
  target's grants;
- views depend on it and the columns are unchanged: ``TRUNCATE`` + ``INSERT`` from the
  stage, so views, grants and the table's identity stay as they are;
- views depend on it and the columns changed: save the views' definitions, owners and
  grants, drop with CASCADE, rename, and recreate the views in dependency order. A view
  that no longer fits the new columns fails the whole swap with its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from headrace.errors import TaskFailed
from headrace.sqltext import ident, qualified
from headrace.warehouses.postgres import CAPABILITIES

D = CAPABILITIES.dialect

_DEPENDENT_VIEWS = """
WITH RECURSIVE deps(oid, depth) AS (
    SELECT DISTINCT r.ev_class, 1
    FROM pg_depend AS d JOIN pg_rewrite AS r ON r.oid = d.objid
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.refobjid = %(target)s::regclass AND r.ev_class <> %(target)s::regclass
    UNION
    SELECT r.ev_class, deps.depth + 1
    FROM deps
    JOIN pg_depend AS d ON d.refobjid = deps.oid AND d.refclassid = 'pg_class'::regclass
        AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite AS r ON r.oid = d.objid
    WHERE r.ev_class <> deps.oid AND deps.depth < 50
)
SELECT n.nspname, c.relname, c.relkind, pg_get_viewdef(c.oid), pg_get_userbyid(c.relowner),
       max(deps.depth) AS depth, c.oid
FROM deps JOIN pg_class AS c ON c.oid = deps.oid JOIN pg_namespace AS n ON n.oid = c.relnamespace
GROUP BY n.nspname, c.relname, c.relkind, c.oid, c.relowner
ORDER BY depth, c.oid
"""

_GRANTS = """
SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
       a.privilege_type, a.is_grantable
FROM pg_class AS c, aclexplode(c.relacl) AS a
WHERE c.oid = %s::regclass AND a.grantee <> c.relowner
"""

_COLUMNS = """
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
"""


@dataclass
class View:
    schema: str
    name: str
    kind: str  # v (view) or m (materialized view)
    definition: str
    owner: str
    grants: list[tuple[str, str, bool]]

    @property
    def qualified(self) -> str:
        return qualified(self.schema, self.name, D)


def columns_of(cur: Any, table: str) -> list[tuple[str, str]]:
    cur.execute(_COLUMNS, (table,))
    return [(name, kind) for name, kind in cur.fetchall()]


def grants_of(cur: Any, table: str) -> list[tuple[str, str, bool]]:
    cur.execute(_GRANTS, (table,))
    return [(grantee, privilege, bool(grantable)) for grantee, privilege, grantable in cur.fetchall()]


def apply_grants(cur: Any, table: str, grants: list[tuple[str, str, bool]]) -> None:
    for grantee, privilege, grantable in grants:
        option = " WITH GRANT OPTION" if grantable else ""
        cur.execute(f"GRANT {privilege} ON {table} TO {grantee}{option}")


def dependent_views(cur: Any, table: str) -> list[View]:
    cur.execute(_DEPENDENT_VIEWS, {"target": table})
    found = cur.fetchall()
    views = []
    for schema, name, kind, definition, owner, _depth, oid in found:
        views.append(View(schema, name, kind, definition, owner, grants_of(cur, str(oid))))
    return views


def swap(cur: Any, schema: str, stage: str, table: str) -> str:
    """Make ``schema.stage`` become ``schema.table``; return how (rename, truncate, recreate)."""
    target = qualified(schema, table, D)
    staged = qualified(schema, stage, D)
    cur.execute("SET LOCAL search_path TO pg_catalog")  # saved view definitions come out fully qualified
    cur.execute("SELECT to_regclass(%s)", (target,))
    if cur.fetchone()[0] is None:
        cur.execute(f"ALTER TABLE {staged} RENAME TO {ident(table, D)}")
        return "rename"
    views = dependent_views(cur, target)
    if not views:
        grants = grants_of(cur, target)
        cur.execute(f"DROP TABLE {target}")
        cur.execute(f"ALTER TABLE {staged} RENAME TO {ident(table, D)}")
        apply_grants(cur, target, grants)
        return "rename"
    if columns_of(cur, target) == columns_of(cur, staged):
        cur.execute(f"TRUNCATE {target}")
        cur.execute(f"INSERT INTO {target} SELECT * FROM {staged}")
        cur.execute(f"DROP TABLE {staged}")
        return "truncate"
    grants = grants_of(cur, target)
    cur.execute(f"DROP TABLE {target} CASCADE")
    cur.execute(f"ALTER TABLE {staged} RENAME TO {ident(table, D)}")
    apply_grants(cur, target, grants)
    for view in views:
        _recreate(cur, view, f"{schema}.{table}")
    return "recreate"


def _recreate(cur: Any, view: View, table: str) -> None:
    import psycopg

    what = "MATERIALIZED VIEW" if view.kind == "m" else "VIEW"
    try:
        with cur.connection.transaction():  # a savepoint: the error names the view, not a cascade
            cur.execute(f"CREATE {what} {view.qualified} AS {view.definition.rstrip().rstrip(';')}")
            cur.execute("SELECT current_user")
            if cur.fetchone()[0] != view.owner:
                cur.execute(f"ALTER {what} {view.qualified} OWNER TO {ident(view.owner, D)}")
            apply_grants(cur, view.qualified, view.grants)
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise TaskFailed(
            f"{view.schema}.{view.name} depends on {table}, whose columns changed, and cannot be recreated on the "
            f"new columns: {message}; change or drop that view, then run again (the previous {table} is kept)"
        ) from None
