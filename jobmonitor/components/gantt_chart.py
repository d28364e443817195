"""The job's Gantt: one lane per step, each attempt its own segment coloured by its outcome,
the backoff between attempts as a dashed gap, a retrying step's wait for its next attempt;
hover shows times, worker and error. Long runs zoom to their running part."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from jobmonitor.history_rows import GanttRow, GanttView, SegmentRow

LABEL_WIDTH = "200px"
LANE_HEIGHT = "22px"


# hover and keyboard focus show a segment's text; CSS only, so it cannot stick open or lag
TIP_CSS = """
.jm-seg { position: absolute; top: 0; bottom: 0; outline: none; }
.jm-seg:hover, .jm-seg:focus-visible { z-index: 3; }
.jm-seg:focus-visible { box-shadow: 0 0 0 2px var(--accent-8); border-radius: 3px; }
.jm-seg-tip { display: none; position: absolute; bottom: calc(100% + 6px); z-index: 4;
  width: max-content; max-width: min(460px, 80vw); padding: 6px 8px; border-radius: 6px;
  background: var(--gray-12); color: var(--gray-1); font-size: var(--font-size-1);
  line-height: 1.4; white-space: normal; overflow-wrap: anywhere; pointer-events: none; }
.jm-seg:hover .jm-seg-tip, .jm-seg:focus-visible .jm-seg-tip { display: block; }
"""


def _piece(seg: rx.Var[SegmentRow], inner: rx.Component) -> rx.Component:
    """One segment, positioned on the lane, named by its hover text."""
    return rx.box(
        inner,
        rx.box(
            seg.label,
            role="tooltip",
            class_name="jm-seg-tip",
            style=rx.cond(seg.left > 50, {"right": "0"}, {"left": "0"}),
        ),
        role="img",
        aria_label=seg.label,
        tab_index=0,
        class_name="jm-seg",
        custom_attrs={
            "data-kind": seg.kind,
            "data-attempt": seg.attempt,
            "data-status": seg.status,
        },
        style={"left": seg.left.to_string() + "%", "width": seg.width.to_string() + "%"},
    )


FILL = {"position": "absolute", "inset": "0"}


def _segment(seg: rx.Var[SegmentRow]) -> rx.Component:
    attempt = _piece(
        seg,
        rx.box(
            rx.text(
                "#" + seg.attempt.to_string(),
                size="1",
                style={"color": "white", "paddingLeft": "4px", "whiteSpace": "nowrap"},
            ),
            style={
                **FILL,
                "background": "var(--" + seg.color + "-9)",
                "borderRadius": "3px",
                "overflow": "hidden",
                "display": "flex",
                "alignItems": "center",
                "boxShadow": "inset -1px 0 0 var(--gray-1)",
            },
        ),
    )
    backoff = _piece(
        seg,
        rx.box(
            style={
                "position": "absolute",
                "left": "0",
                "right": "0",
                "top": "50%",
                "borderTop": "2px dashed var(--amber-9)",
            }
        ),
    )
    scheduled = _piece(
        seg,
        rx.box(
            style={
                **FILL,
                "border": "1.5px dashed var(--amber-9)",
                "borderRadius": "3px",
                "background": "var(--amber-a3)",
            }
        ),
    )
    return rx.match(seg.kind, ("attempt", attempt), ("backoff", backoff), scheduled)


def _lane(row: rx.Var[GanttRow]) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.text(row.index, size="1", color_scheme="gray", width="18px"),
            rx.text(
                row.name,
                size="2",
                style={"overflow": "hidden", "textOverflow": "ellipsis", "whiteSpace": "nowrap"},
                title=row.name,
            ),
            rx.cond(
                row.attempts > 1,
                rx.badge(row.attempts.to_string() + " tries", size="1", color_scheme="amber"),
            ),
            spacing="2",
            align="center",
            width=LABEL_WIDTH,
            min_width=LABEL_WIDTH,
            overflow="hidden",
        ),
        rx.box(
            rx.foreach(row.segments, _segment),
            position="relative",
            height=LANE_HEIGHT,
            flex="1",
            background="var(--gray-a2)",
            border_radius="3px",
        ),
        role="group",
        aria_label="Lane " + row.index.to_string() + " " + row.name,
        custom_attrs={"data-step-key": row.key, "data-status": row.status},
        style={"display": "flex", "gap": "12px", "alignItems": "center", "width": "100%"},
    )


def _legend() -> rx.Component:
    def item(swatch: dict[str, str], label: str) -> rx.Component:
        return rx.hstack(
            rx.box(style={"width": "18px", "height": "10px", **swatch}),
            rx.text(label, size="1", color_scheme="gray"),
            spacing="1",
            align="center",
        )

    return rx.hstack(
        item({"background": "var(--green-9)", "borderRadius": "2px"}, "attempt (colour: outcome)"),
        item({"borderTop": "2px dashed var(--amber-9)", "height": "0"}, "backoff"),
        item({"border": "1.5px dashed var(--amber-9)", "borderRadius": "2px"}, "next attempt"),
        spacing="4",
        wrap="wrap",
    )


def gantt_chart(
    view: rx.Var[GanttView],
    zoom: rx.Var[bool],
    on_zoom: Callable[[], Any],
    loaded: rx.Var[bool],
) -> rx.Component:
    return rx.el.section(
        rx.el.style(TIP_CSS),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Attempts over time", as_="h2", size="3", color_scheme="gray"),
                    rx.spacer(),
                    rx.cond(
                        view.can_zoom,
                        rx.button(
                            rx.icon(rx.cond(zoom, "zoom-out", "zoom-in"), size=14),
                            rx.cond(zoom, "Show whole run", "Zoom to running part"),
                            size="1",
                            variant="soft",
                            aria_pressed=rx.cond(zoom, "true", "false"),
                            on_click=on_zoom,
                        ),
                    ),
                    width="100%",
                    align="center",
                ),
                _legend(),
                rx.cond(
                    loaded,
                    rx.cond(
                        view.ticks.length() > 0,
                        rx.vstack(
                            rx.hstack(
                                rx.box(width=LABEL_WIDTH, min_width=LABEL_WIDTH),
                                rx.hstack(
                                    rx.foreach(
                                        view.ticks,
                                        lambda tick: rx.text(tick, size="1", color_scheme="gray"),
                                    ),
                                    justify="between",
                                    flex="1",
                                    aria_label="Time axis",
                                ),
                                spacing="3",
                                width="100%",
                            ),
                            rx.foreach(view.rows, _lane),
                            spacing="2",
                            width="100%",
                            role="group",
                            aria_label="Gantt",
                        ),
                        rx.text("No step has started yet.", size="2", color_scheme="gray"),
                    ),
                    rx.text("Loading…", size="2", color_scheme="gray"),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        aria_label="Gantt",
        width="100%",
    )
