"""A workflow's DAG drawn as step boxes and arrows (positions from `jobmonitor.dag`)."""

from __future__ import annotations

import reflex as rx

from jobmonitor import dag


def _node(node: rx.Var[dag.Node]) -> rx.Component:
    return rx.box(
        rx.text(node.name, size="2", weight="medium", class_name="jm-dag-name"),
        rx.code(node.key, size="1", variant="ghost"),
        class_name="jm-dag-node",
        style={
            "left": node.x.to_string() + "px",
            "top": node.y.to_string() + "px",
            "width": f"{dag.NODE_W}px",
            "height": f"{dag.NODE_H}px",
        },
        title=node.name,
        role="listitem",
        aria_label="Step " + node.name,
    )


def _edge(edge: rx.Var[dag.Edge]) -> rx.Component:
    return rx.el.path(d=edge.path, class_name="jm-dag-edge", marker_end="url(#jm-arrow)")


def dag_view(
    nodes: rx.Var[list[dag.Node]],
    edges: rx.Var[list[dag.Edge]],
    width: rx.Var[int],
    height: rx.Var[int],
) -> rx.Component:
    size = {"width": width.to_string() + "px", "height": height.to_string() + "px"}
    return rx.box(
        rx.box(
            rx.el.svg(
                rx.el.defs(
                    rx.el.marker(
                        rx.el.path(d="M 0 0 L 10 5 L 0 10 z", class_name="jm-dag-arrow"),
                        id="jm-arrow",
                        view_box="0 0 10 10",
                        ref_x="9",
                        ref_y="5",
                        marker_width="7",
                        marker_height="7",
                        orient="auto-start-reverse",
                    )
                ),
                rx.foreach(edges, _edge),
                class_name="jm-dag-svg",
                style=size,
                aria_hidden="true",
            ),
            rx.box(rx.foreach(nodes, _node), role="list", aria_label="Workflow steps"),
            class_name="jm-dag",
            style=size,
        ),
        class_name="jm-dag-scroll",
    )
