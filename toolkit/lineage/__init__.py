"""Lineage of a compiled project: where every table comes from, at table and column level.

``build_lineage(manifest)`` reads only the manifest (``read_manifest``): extractor configs say
what each extractor reads (never resolving secrets), tasks' ``reads``/``writes`` give the
table-level edges, and the SQL of transformations (plain SQL or dbt's compiled models) gives
column-level edges through sqlglot. What sqlglot cannot resolve stays table level: lineage
never fails a build. docs/lineage.md describes what is inferred and its limits.
"""

from __future__ import annotations

from headrace.lineage.graph import ColumnEdge, Edge, Lineage, Node, build_lineage

__all__ = ["ColumnEdge", "Edge", "Lineage", "Node", "build_lineage"]
