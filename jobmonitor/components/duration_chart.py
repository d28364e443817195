"""Durations of a workflow's recent jobs (newest right) as a recharts bar chart: a run axis,
a duration axis in seconds, bars coloured by status with a legend, and the run, status and
duration on hover. (The runs grid below it links every run.)"""

from __future__ import annotations

from typing import Any

import reflex as rx

from jobmonitor.charts import SERIES


def _bar(key: str, label: str, colour: str) -> rx.Component:
    return rx.recharts.bar(
        data_key=key,
        name=label,
        stack_id="duration",
        fill=f"var(--{colour}-9)",
        unit=" s",
        max_bar_size=48,
        is_animation_active=False,
    )


def duration_chart(points: rx.Var[list[dict[str, Any]]], longest: rx.Var[str]) -> rx.Component:
    return rx.vstack(
        rx.text(longest, size="1", color_scheme="gray"),
        rx.cond(
            points.length() > 0,
            rx.box(
                rx.recharts.bar_chart(
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                    rx.recharts.x_axis(
                        data_key="run",
                        label={"value": "Run", "position": "insideBottom", "offset": -4},
                        height=40,
                    ),
                    rx.recharts.y_axis(
                        label={
                            "value": "Duration (s)",
                            "angle": -90,
                            "position": "insideLeft",
                            "style": {"textAnchor": "middle"},
                        },
                        width=64,
                    ),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.legend(vertical_align="top", height=28),
                    *[_bar(key, label, colour) for key, (label, colour) in SERIES.items()],
                    data=points,
                    width="100%",
                    height=240,
                    margin={"top": 4, "right": 16, "bottom": 8, "left": 4},
                ),
                role="figure",
                aria_label="Durations of recent jobs",
                width="100%",
                font_size="12px",  # the legend and ticks inherit it
            ),
            rx.text("No jobs yet.", size="2", color_scheme="gray"),
        ),
        width="100%",
        spacing="2",
    )
