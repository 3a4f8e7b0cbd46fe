"""Column lineage of one transformation: its SQL files, or its dbt project's compiled models."""

from __future__ import annotations

from headrace.lineage.columns import WorkingSchema
from headrace.lineage.dbt import model_statements
from headrace.project.manifest import TransformationTask


def column_lineage(
    task: TransformationTask, known: dict[str, list[str]]
) -> tuple[list[tuple[str, str]], dict[str, list[str]], list[str]]:
    """(input column, output column) pairs as ``schema.table.column``, the columns of each output
    (``schema.table``) in the order the SQL makes them, and what stayed table level.

    ``known`` holds the columns of tables known so far (extractors' declared columns, outputs of
    transformations traced before); outputs are named ``<target_schema>.<table>``."""
    if task.container is not None:  # an image: its outputs are linked to its inputs at table level only
        return [], {}, ["a container transformation: table-level lineage only"]
    inputs = {ref.alias: (ref.table, list(known.get(ref.table, []))) for ref in task.inputs}
    work = WorkingSchema(task.dialect, inputs)
    if task.dbt is not None:
        statements, notes = model_statements(task.dbt.nodes)
        work.unresolved.extend(notes)
    else:
        statements = [s.sql for f in task.sql if not f.assertion for s in f.statements]
    for sql in statements:
        try:
            work.run(sql)
        except Exception as exc:  # lineage degrades to table level, never fails the docs
            work.unresolved.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    edges: list[tuple[str, str]] = []
    columns: dict[str, list[str]] = {}
    for output in task.outputs:
        local = work.tables.get(output)
        if local is None:
            work.unresolved.append(f"{output}: no statement sqlglot could read makes it")
            continue
        target = f"{task.target_schema}.{output}"
        columns[target] = list(local.columns)
        for column in local.columns:
            sources = sorted(local.sources.get(column, set()))
            edges.extend((f"{table}.{col}", f"{target}.{column}") for table, col in sources)
    return edges, columns, work.unresolved
