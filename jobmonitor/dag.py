"""Layout of a workflow's DAG for the workflow page: steps in columns by dependency depth
(a step sits one column right of its deepest dependency), arrows between box edges."""

from __future__ import annotations

from dataclasses import dataclass

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 180, 48, 60, 20, 10


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


def layout(steps: list[StepRef]) -> Layout:
    level = depths(steps)
    rows: dict[int, int] = {}
    nodes: dict[str, Node] = {}
    for s in steps:
        col = level[s.key]
        row = rows.get(col, 0)
        rows[col] = row + 1
        nodes[s.key] = Node(
            s.key, s.name, PAD + col * (NODE_W + GAP_X), PAD + row * (NODE_H + GAP_Y)
        )
    edges = [
        Edge(_curve(nodes[d], nodes[s.key]))
        for s in steps
        for d in s.depends_on
        if d in nodes and d != s.key
    ]
    width = PAD * 2 + (max(level.values(), default=0) + 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + max(rows.values(), default=1) * (NODE_H + GAP_Y) - GAP_Y
    return Layout(list(nodes.values()), edges, width, height)


def _curve(a: Node, b: Node) -> str:
    x1, y1 = a.x + NODE_W, a.y + NODE_H // 2
    x2, y2 = b.x - 6, b.y + NODE_H // 2  # stop short of the box for the arrow head
    mid = (x1 + x2) // 2
    return f"M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}"
