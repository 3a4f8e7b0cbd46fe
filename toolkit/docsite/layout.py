"""The lineage picture: a layered layout computed here, drawn as SVG.

Layers are longest paths from the sources (sources, extractors, ``in_`` tables, transformations,
``out_`` tables, datamarts, ``dm_`` tables in a usual project); inside a layer nodes are grouped
by stage and ordered by the mean position of their predecessors (two sweeps), which keeps most
edges short. An edge that skips layers gets a lane in each layer it crosses (a slot below that
layer's nodes), so it never runs through a box it does not connect. Every node is a
``<g data-node="ID">`` and every edge a ``<path data-edge="A->B">``: the page's script and the
tests find them by these attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from headrace.lineage import Lineage
from headrace.lineage.graph import STAGES

NODE_W, NODE_H = 200, 28
GAP_X, GAP_Y = 64, 12
MARGIN, HEADER = 20, 34
LABEL_CHARS = 29
STAGE_TITLES = {
    "source": "Sources",
    "extractor": "Extractors",
    "in": "Loaded (in_)",
    "transformation": "Transformations",
    "out": "Outputs (out_)",
    "datamart": "Datamarts",
    "dm": "Published (dm_)",
    "other": "Other",
}


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int = NODE_W
    h: int = NODE_H


Lanes = dict[tuple[str, str], list[str]]  # edge (source, target) -> the lanes it runs through


def attr(value: str) -> str:
    """``value`` in a double-quoted attribute; ``>`` stays as it is, so ``data-edge="a->b"`` reads as written."""
    return escape(value, quote=True).replace("&gt;", ">")


def layers(graph: Lineage) -> tuple[list[list[str]], Lanes]:
    """Node ids by layer, lanes included; and the lanes each layer-skipping edge runs through."""
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for edge in graph.edges:
        if edge.source in preds and edge.target in preds:
            preds[edge.target].append(edge.source)
    depth: dict[str, int] = {}

    def level(node: str, seen: frozenset[str] = frozenset()) -> int:
        if node not in depth:
            parents = [p for p in preds[node] if p not in seen]
            depth[node] = 1 + max((level(p, seen | {node}) for p in parents), default=-1)
        return depth[node]

    for node in graph.nodes:
        level(node)
    _published_last(graph, depth)
    grouped: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in sorted(graph.nodes):
        grouped[depth[node]].append(node)
    lanes = _lanes(graph, depth, grouped, preds)
    stage = {n: STAGES.index(graph.nodes[n].stage) if n in graph.nodes else len(STAGES) for n in preds}
    position: dict[str, float] = {}
    for _sweep in range(2):
        for layer in grouped:

            def key(n: str) -> tuple[int, float, str]:
                known = [position[p] for p in preds[n] if p in position]
                return (stage[n], sum(known) / len(known) if known else 0.0, n)

            layer.sort(key=key)
            position.update({n: i for i, n in enumerate(layer)})
    return grouped, lanes


def _lanes(graph: Lineage, depth: dict[str, int], grouped: list[list[str]], preds: dict[str, list[str]]) -> Lanes:
    """A lane (a node of no stage, ordered after the layer's real nodes) in every layer an edge skips."""
    lanes: Lanes = {}
    for edge in graph.edges:
        a, b = edge.source, edge.target
        if a not in depth or b not in depth or depth[b] - depth[a] < 2 or (a, b) in lanes:
            continue
        previous, ids = a, []
        for layer in range(depth[a] + 1, depth[b]):
            lane = f"lane:{a}->{b}@{layer}"
            grouped[layer].append(lane)
            preds[lane] = [previous]
            ids.append(lane)
            previous = lane
        lanes[(a, b)] = ids
    return lanes


def _published_last(graph: Lineage, depth: dict[str, int]) -> None:
    """Datamarts' tables in one last layer, the datamarts just before it: every published table
    lines up on the right, wherever its transformation chain ended."""
    published = {n.id for n in graph.nodes.values() if n.stage == "dm"}
    if not published:
        return
    last = 1 + max((d for n, d in depth.items() if n not in published), default=0)
    for node in graph.nodes.values():
        if node.id in published:
            depth[node.id] = last
        elif node.kind == "datamart":
            depth[node.id] = last - 1


def compute(graph: Lineage) -> tuple[dict[str, Box], int, int, list[tuple[int, str]], Lanes]:
    """Boxes by node id (lanes included), the picture's width and height, (x, title) of each layer's
    heading, and the lanes of each layer-skipping edge."""
    grouped, lanes = layers(graph)
    boxes: dict[str, Box] = {}
    tallest = max((len(layer) for layer in grouped), default=0)
    height = 2 * MARGIN + HEADER + tallest * (NODE_H + GAP_Y)
    headings = []
    for index, layer in enumerate(grouped):
        x = MARGIN + index * (NODE_W + GAP_X)
        top = MARGIN + HEADER + (tallest - len(layer)) * (NODE_H + GAP_Y) // 2  # centred vertically
        for row, node in enumerate(layer):
            boxes[node] = Box(x, top + row * (NODE_H + GAP_Y))
        stages = [graph.nodes[n].stage for n in layer if n in graph.nodes]
        headings.append((x, STAGE_TITLES[max(set(stages), key=stages.count)] if stages else ""))
    width = 2 * MARGIN + len(grouped) * (NODE_W + GAP_X) - GAP_X
    return boxes, max(width, NODE_W), height, headings, lanes


def svg(graph: Lineage) -> str:
    boxes, width, height, headings, lanes = compute(graph)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="lineage" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Lineage graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>',
    ]
    for x, title in headings:
        out.append(f'<text class="layer-title" x="{x}" y="{MARGIN + 12}">{escape(title)}</text>')
    out.append('<g class="edges">')
    for edge in graph.edges:
        a, b = boxes.get(edge.source), boxes.get(edge.target)
        if a is None or b is None:
            continue
        out.append(
            f'<path class="edge" data-edge="{attr(edge.source)}->{attr(edge.target)}" '
            f'data-from="{attr(edge.source)}" data-to="{attr(edge.target)}" '
            f'd="{_route(a, [boxes[lane] for lane in lanes.get((edge.source, edge.target), [])], b)}" '
            'marker-end="url(#arrow)"/>'
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    for node_id, box in boxes.items():
        if node_id not in graph.nodes:  # a lane
            continue
        node = graph.nodes[node_id]
        label = node.label if len(node.label) <= LABEL_CHARS else node.label[: LABEL_CHARS - 1] + "…"
        title = f"{node.id} ({node.detail})" if node.detail else node.id
        out.append(
            f'<g class="node kind-{node.kind} stage-{node.stage}" data-node="{attr(node_id)}" '
            f'data-kind="{node.kind}" tabindex="0"><title>{escape(title)}</title>'
            f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="6"/>'
            f'<text x="{box.x + 10}" y="{box.y + box.h / 2 + 4:.0f}">{escape(label)}</text></g>'
        )
    out.append("</g></svg>")
    return "\n".join(out)


def _route(a: Box, lanes: list[Box], b: Box) -> str:
    """An edge's path: a curve from box to box, straight through each lane it crosses."""
    x, y = a.x + a.w, a.y + a.h / 2
    path = [f"M{x:.0f},{y:.0f}"]
    for lane in lanes:
        x2, y2 = lane.x, lane.y + lane.h / 2
        bend = (x2 - x) / 2
        path.append(f"C{x + bend:.0f},{y:.0f} {x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f} H{lane.x + lane.w:.0f}")
        x, y = lane.x + lane.w, y2
    x2, y2 = b.x - 2, b.y + b.h / 2
    bend = (x2 - x) / 2
    path.append(f"C{x + bend:.0f},{y:.0f} {x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}")
    return " ".join(path)
