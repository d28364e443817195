"""The job's event history: every event in order with its time, its offset from the job's
creation, what happened, the step and attempt, and who asked for it; filterable by step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from jobmonitor.history_rows import EventRow, StepOption

ALL_STEPS = "all"


def _step_filter(
    steps: rx.Var[list[StepOption]], value: rx.Var[str], on_change: Callable[[Any], Any]
) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Filter events by step", min_width="180px"),
        rx.select.content(
            rx.select.item("All steps", value=ALL_STEPS),
            rx.foreach(steps, lambda o: rx.select.item(o.label, value=o.key)),
        ),
        value=value,
        on_change=on_change,
        size="2",
    )


def _event(e: rx.Var[EventRow]) -> rx.Component:
    return rx.el.li(
        rx.box(
            rx.moment(
                e.at,
                format="HH:mm:ss.SSS",
                style={
                    "display": "block",
                    "fontSize": "var(--font-size-1)",
                    "whiteSpace": "nowrap",
                    "fontVariantNumeric": "tabular-nums",
                },
            ),
            rx.text(e.offset, size="1", color_scheme="gray", as_="div"),
            width="92px",
            flex_shrink="0",
        ),
        rx.box(
            width="10px",
            height="10px",
            border_radius="50%",
            margin_top="5px",
            flex_shrink="0",
            background="var(--" + e.tone + "-9)",
        ),
        rx.vstack(
            rx.hstack(
                rx.text(e.title, size="2", weight="medium"),
                rx.cond(
                    e.step_name != "",
                    rx.badge(e.step_name, variant="soft", color_scheme="gray", size="1"),
                ),
                rx.cond(
                    e.actor != "",
                    rx.text("by ", rx.code(e.actor, size="1"), size="1", color_scheme="gray"),
                ),
                rx.cond(e.link != "", rx.link(e.link_label, href=e.link, size="1")),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                e.detail != "",
                rx.text(
                    e.detail,
                    size="1",
                    color=rx.cond(e.tone == "red", "var(--red-11)", "var(--gray-11)"),
                    style={"overflowWrap": "anywhere", "whiteSpace": "pre-wrap"},
                ),
            ),
            spacing="1",
            min_width="0",
            flex="1",
        ),
        custom_attrs={"data-type": e.type, "data-step-key": e.step_key},
        style={
            "display": "flex",
            "gap": "12px",
            "alignItems": "flex-start",
            "padding": "8px 4px",
            "borderBottom": "1px solid var(--gray-a4)",
        },
    )


def event_history(
    events: rx.Var[list[EventRow]],
    steps: rx.Var[list[StepOption]],
    step_filter: rx.Var[str],
    on_filter: Callable[[Any], Any],
    loaded: rx.Var[bool],
    truncated: rx.Var[bool],
    error: rx.Var[str],
) -> rx.Component:
    return rx.el.section(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("Event history", as_="h2", size="3", color_scheme="gray"),
                    rx.badge(events.length().to_string() + " events", variant="soft"),
                    rx.spacer(),
                    _step_filter(steps, step_filter, on_filter),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(
                    error != "",
                    rx.callout.root(
                        rx.callout.text("Could not load the events (" + error + ")."),
                        color_scheme="red",
                        role="alert",
                    ),
                ),
                rx.cond(
                    truncated,
                    rx.text(
                        "The first 5,000 events are shown: download the export for the rest.",
                        size="1",
                        color_scheme="amber",
                    ),
                ),
                rx.cond(
                    loaded,
                    rx.cond(
                        events.length() > 0,
                        rx.el.ol(
                            rx.foreach(events, _event),
                            aria_label="Events",
                            style={"listStyle": "none", "margin": "0", "padding": "0"},
                            width="100%",
                        ),
                        rx.text("No events yet.", size="2", color_scheme="gray"),
                    ),
                    rx.text("Loading events…", size="2", color_scheme="gray"),
                ),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
        aria_label="Event history",
        width="100%",
    )
