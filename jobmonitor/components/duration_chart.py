"""Durations of a workflow's recent jobs as bars coloured by status (newest right); a bar
links to its job."""

from __future__ import annotations

import reflex as rx

from jobmonitor.components.status_badge import status_color
from jobmonitor.viewmodels import ChartBar


def _bar(bar: rx.Var[ChartBar]) -> rx.Component:
    return rx.link(
        rx.box(
            class_name="jm-chart-bar",
            style={
                "height": bar.height.to_string() + "%",
                "background": "var(--" + status_color(bar.status) + "-9)",
            },
        ),
        href="/jobs/" + bar.job_id,
        title=bar.label,
        aria_label=bar.label,
        class_name="jm-chart-slot",
    )


def duration_chart(bars: rx.Var[list[ChartBar]], longest: rx.Var[str]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(longest, size="1", color_scheme="gray"),
            rx.spacer(),
            rx.foreach(
                rx.Var.create(["completed", "failed", "cancelled", "running"]),
                lambda s: rx.hstack(
                    rx.box(
                        class_name="jm-legend-dot",
                        style={"background": "var(--" + status_color(s) + "-9)"},
                    ),
                    rx.text(s, size="1", color_scheme="gray"),
                    spacing="1",
                    align="center",
                ),
            ),
            width="100%",
            spacing="3",
        ),
        rx.cond(
            bars.length() > 0,
            rx.box(
                rx.foreach(bars, _bar),
                class_name="jm-chart",
                role="figure",
                aria_label="Durations of recent jobs",
            ),
            rx.text("No jobs yet.", size="2", color_scheme="gray"),
        ),
        width="100%",
        spacing="2",
    )
