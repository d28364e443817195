"""Layout of a workflow's DAG for the workflow page: steps in columns by dependency depth
(a step sits one column right of its deepest dependency), arrows between box edges.

A deep DAG does not run off the right edge: after `MAX_COLUMNS` columns the drawing wraps
into another band below (the 7-step `data_pipeline` is two bands of 4 and 3, 844 px wide,
which fits the page at 1024 px), and an arrow into a later band runs from the bottom of its
step to the top of the next."""

from __future__ import annotations

from dataclasses import dataclass

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 170, 48, 48, 20, 10
MAX_COLUMNS = 4  # per band: 4 columns are 844 px wide
BAND_GAP = 36  # vertical space between bands, where the arrows into the next band run


@dataclass(frozen=True)
class StepRef:
    key: str
    name: str
    depends_on: tuple[str, ...]


@dataclass
class Node:
    key: str
    name: str
    x: int
    y: int


@dataclass
class Edge:
    path: str  # an SVG path ("M x y C ...") from the dependency to the step


@dataclass
class Layout:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int


def depths(steps: list[StepRef]) -> dict[str, int]:
    """Longest dependency chain above each step (unknown dependencies and cycles ignored)."""
    by_key = {s.key: s for s in steps}
    memo: dict[str, int] = {}

    def depth(key: str, seen: frozenset[str]) -> int:
        if key in memo:
            return memo[key]
        deps = [d for d in by_key[key].depends_on if d in by_key and d not in seen]
        value = 1 + max((depth(d, seen | {d}) for d in deps), default=-1)
        memo[key] = value
        return value

    return {s.key: depth(s.key, frozenset({s.key})) for s in steps}


def layout(steps: list[StepRef], max_columns: int = MAX_COLUMNS) -> Layout:
    level = depths(steps)
    rows: dict[int, int] = {}
    for s in steps:
        rows[level[s.key]] = rows.get(level[s.key], 0) + 1
    band_of = {col: col // max_columns for col in rows}
    band_rows: dict[int, int] = {}
    for col, count in rows.items():
        band_rows[band_of[col]] = max(band_rows.get(band_of[col], 0), count)
    band_top, top = {}, PAD
    for band in sorted(band_rows):
        band_top[band] = top
        top += band_rows[band] * (NODE_H + GAP_Y) - GAP_Y + BAND_GAP
    placed: dict[int, int] = {}
    nodes: dict[str, Node] = {}
    for s in steps:
        col = level[s.key]
        row = placed.get(col, 0)
        placed[col] = row + 1
        x = PAD + (col % max_columns) * (NODE_W + GAP_X)
        nodes[s.key] = Node(s.key, s.name, x, band_top[band_of[col]] + row * (NODE_H + GAP_Y))
    edges = [
        Edge(
            _curve(nodes[d], nodes[s.key])
            if nodes[d].x < nodes[s.key].x
            else _drop(nodes[d], nodes[s.key])
        )
        for s in steps
        for d in s.depends_on
        if d in nodes and d != s.key
    ]
    columns = min(max(level.values(), default=0) + 1, max_columns)
    width = PAD * 2 + columns * (NODE_W + GAP_X) - GAP_X
    height = top - BAND_GAP + PAD if rows else PAD * 2 + NODE_H
    return Layout(list(nodes.values()), edges, width, height)


def _drop(a: Node, b: Node) -> str:
    """An arrow into a later band: from the bottom of `a` down to the top of `b`."""
    x1, y1 = a.x + NODE_W // 2, a.y + NODE_H
    x2, y2 = b.x + NODE_W // 2, b.y - 6
    mid = (y1 + y2) // 2
    return f"M {x1} {y1} C {x1} {mid}, {x2} {mid}, {x2} {y2}"


def _curve(a: Node, b: Node) -> str:
    x1, y1 = a.x + NODE_W, a.y + NODE_H // 2
    x2, y2 = b.x - 6, b.y + NODE_H // 2  # stop short of the box for the arrow head
    mid = (x1 + x2) // 2
    return f"M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}"
