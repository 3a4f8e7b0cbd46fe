"""The lineage graph of a manifest: nodes, table-level edges and column-level edges."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any, Literal

from headrace.lineage import sources
from headrace.lineage.transformations import column_lineage
from headrace.project.manifest import DatamartTask, ExtractorTask, Manifest, TransformationTask

NodeKind = Literal["source", "extractor", "table", "transformation", "datamart"]
STAGES = ("source", "extractor", "in", "transformation", "out", "datamart", "dm", "other")


@dataclass(frozen=True)
class Node:
    id: str  # a table's schema.table, a task's id, or source:<extractor>.<table>
    kind: NodeKind
    stage: str  # one of STAGES: groups nodes in the picture
    label: str
    detail: str = ""  # a source's kind (table, query, file, url, container), a task's type


@dataclass(frozen=True)
class Edge:
    source: str
    target: str


@dataclass(frozen=True)
class ColumnEdge:
    source: str  # schema.table.column
    target: str


@dataclass
class Lineage:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    column_edges: list[ColumnEdge] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)  # table -> columns lineage knows of
    unresolved: dict[str, list[str]] = field(default_factory=dict)  # task -> what stayed table level

    def add_node(self, node: Node) -> None:
        self.nodes.setdefault(node.id, node)

    def add_edge(self, source: str, target: str) -> None:
        edge = Edge(source, target)
        if edge not in self.edges:
            self.edges.append(edge)

    def upstream_columns(self, table: str) -> dict[str, list[str]]:
        """Column -> the columns it is computed from (schema.table.column), for one table."""
        prefix = table + "."
        found: dict[str, list[str]] = {}
        for edge in self.column_edges:
            if edge.target.startswith(prefix):
                found.setdefault(edge.target[len(prefix) :], []).append(edge.source)
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": [asdict(n) for n in self.nodes.values()],
            "edges": [asdict(e) for e in self.edges],
            "column_edges": [asdict(e) for e in self.column_edges],
            "unresolved": self.unresolved,
        }


def written(task: ExtractorTask | TransformationTask | DatamartTask) -> list[str]:
    """The tables a task writes: its ``writes``, and a datamart's published tables (``dm_<id>.<name>``)."""
    if isinstance(task, DatamartTask):
        return [*task.writes, *(f"{task.target_schema}.{t.name}" for t in task.tables)]
    return list(task.writes)


def stage_of(table: str) -> str:
    prefix = table.split("_", 1)[0]
    return prefix if prefix in ("in", "out", "dm") else "other"


def build_lineage(manifest: Manifest, known: dict[str, list[str]] | None = None) -> Lineage:
    """Nodes and edges of every task of ``manifest``; never raises on SQL it cannot read.

    ``known``: columns of tables (schema.table) read elsewhere (the warehouse, stored
    ``schema.json``), used where the manifest declares none and for outputs SQL does not tell."""
    graph = Lineage()
    graph.columns.update({t: list(cols) for t, cols in (known or {}).items() if cols})
    for task in manifest.tasks.values():
        if isinstance(task, ExtractorTask):
            _extractor(graph, task)
    for task in manifest.tasks.values():
        for table in (*task.reads, *written(task)):
            graph.add_node(Node(table, "table", stage_of(table), table))
        if isinstance(task, TransformationTask):
            graph.add_node(Node(task.id, "transformation", "transformation", task.component, task.type))
        elif isinstance(task, DatamartTask):
            graph.add_node(Node(task.id, "datamart", "datamart", task.component, task.materialization))
        if not isinstance(task, ExtractorTask):
            for table in task.reads:
                graph.add_edge(table, task.id)
        for table in written(task):
            graph.add_edge(task.id, table)
    for task in _in_data_order(manifest):  # a transformation reading another's output comes after it
        edges, columns, unresolved = column_lineage(task, graph.columns)
        graph.column_edges.extend(ColumnEdge(s, t) for s, t in edges)
        graph.columns.update(columns)
        if unresolved:
            graph.unresolved[task.id] = unresolved
    for task in manifest.tasks.values():  # after transformations: datamarts publish their outputs
        if isinstance(task, DatamartTask):
            _datamart(graph, task)
    return graph


def _in_data_order(manifest: Manifest) -> list[TransformationTask]:
    tasks = [t for t in manifest.tasks.values() if isinstance(t, TransformationTask)]
    writer = {table: t.id for t in tasks for table in t.writes}
    graph = {t.id: [writer[r] for r in t.reads if r in writer and writer[r] != t.id] for t in tasks}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError:  # validation refuses cycles; lineage still shows what it can
        order = sorted(graph)
    by_id = {t.id: t for t in tasks}
    return [by_id[i] for i in order]


def _extractor(graph: Lineage, task: ExtractorTask) -> None:
    graph.add_node(Node(task.id, "extractor", "extractor", task.component, task.type))
    declared = sources.declared_columns(task)
    for name, (kind, label) in sources.extractor_sources(task).items():
        source_id = f"source:{task.component}.{name}"
        graph.add_node(Node(source_id, "source", "source", label, kind))
        graph.add_edge(source_id, task.id)
        if name in declared:
            graph.columns[f"{task.target_schema}.{name}"] = [c for c, _ in declared[name]]  # before ``known``


def _datamart(graph: Lineage, task: DatamartTask) -> None:
    """A datamart publishes tables as they are: columns map 1:1."""
    for entry in task.tables:
        target = f"{task.target_schema}.{entry.name}"
        cols = graph.columns.get(entry.source, [])
        graph.columns[target] = list(cols)
        graph.column_edges.extend(ColumnEdge(f"{entry.source}.{c}", f"{target}.{c}") for c in cols)
