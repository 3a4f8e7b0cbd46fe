"""A dbt run's models as statements of its working schema, for column lineage.

Each model (and seed or snapshot with compiled SQL) becomes ``CREATE TABLE <name> AS <sql>``,
in dependency order. Relations in compiled SQL are matched by their last name part, so
whatever database and schema dbt qualified them with: a model's name, or an input's ``as``
name (inputs are the dbt source ``inputs``: ``source.<project>.inputs.<as-name>``).
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

from headrace.project.manifest import DbtNode

RELATIONS = ("model", "seed", "snapshot")


def model_statements(nodes: list[DbtNode]) -> tuple[list[str], list[str]]:
    """Statements in dependency order, and notes on models left out."""
    relations = {n.unique_id: n for n in nodes if n.resource_type in RELATIONS}
    order = TopologicalSorter({uid: [d for d in n.depends_on if d in relations] for uid, n in relations.items()})
    notes: list[str] = []
    try:
        ordered = list(order.static_order())
    except CycleError:
        ordered, notes = sorted(relations), ["dbt models depend on each other in a cycle"]
    statements = []
    for uid in ordered:
        node = relations[uid]
        if node.sql:
            statements.append(f"CREATE TABLE {_quoted(node.name)} AS {node.sql.strip().rstrip(';')}")
        elif node.columns:  # no compiled SQL: its documented columns, without sources
            statements.append(
                f"CREATE TABLE {_quoted(node.name)} ({', '.join(_quoted(c) + ' TEXT' for c in node.columns)})"
            )
            notes.append(f"{node.name}: no compiled SQL, columns as documented")
        else:
            notes.append(f"{node.name}: no compiled SQL")
    return statements, notes


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
