"""The lineage picture's layout: an edge that skips layers runs through lanes of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from headrace.docsite.layout import compute, svg
from headrace.lineage import build_lineage
from headrace.project.compile import compile_project
from headrace.project.manifest import read_manifest

from tests.helpers import TEMPLATE

pytestmark = pytest.mark.unit


def test_an_edge_that_skips_layers_never_runs_through_a_box_it_does_not_connect(tmp_path: Path) -> None:
    graph = build_lineage(read_manifest(compile_project(TEMPLATE, tmp_path / "manifest.json")))
    boxes, _, _, _, lanes = compute(graph)
    # the example's in_web.sessions feeds marketing, two layers on: past the out_ tables of sales
    long = [(a, b) for a, b in lanes if a == "in_web.sessions"]
    assert long and all(lanes[edge] for edge in long)
    real = {n: box for n, box in boxes.items() if n in graph.nodes}
    for edge, crossed in lanes.items():
        for lane in (boxes[name] for name in crossed):
            for node, box in real.items():
                same_column = box.x == lane.x
                overlaps = box.y < lane.y + lane.h and lane.y < box.y + box.h
                assert not (same_column and overlaps), f"{edge} runs through {node}"
    drawn = svg(graph)
    # lanes are not drawn as nodes, and the edge's path goes straight through each lane (an H segment)
    assert len(re.findall(r'<g class="node ', drawn)) == len(graph.nodes)
    path = re.search(r'data-edge="in_web\.sessions->[^"]*".*? d="([^"]+)"', drawn)
    assert path and " H" in path.group(1)
