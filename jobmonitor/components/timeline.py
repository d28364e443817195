"""The step timeline: every step in order with index, name, status icon and colour, duration,
attempts and cost, and its Gantt bar on the job's shared time axis (`jobmonitor.gantt`).
The step being worked on is highlighted with its live progress. A step's error shows two
lines under its row; "Show full error" opens the rest in place (a `<details>` outside the
row's button, so no state round trip and no button inside a button)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from jobmonitor.components.status_badge import status_color, status_icon
from jobmonitor.viewmodels import StepRow


def _is_active(status: rx.Var[str]) -> rx.Var[bool]:
    return (status == "running") | (status == "retrying") | (status == "queued")


def _bar(step: rx.Var[StepRow]) -> rx.Component:
    color = status_color(step.status)
    return rx.box(
        rx.cond(
            step.bar_visible,
            rx.box(
                class_name=rx.cond(step.status == "running", "jm-bar jm-bar-running", "jm-bar"),
                style={
                    "left": step.bar_left.to_string() + "%",
                    "width": step.bar_width.to_string() + "%",
                    "background": "var(--" + color + "-9)",
                },
                title=step.name + ": " + step.duration,
            ),
        ),
        class_name="jm-bar-track",
    )


def _meta(step: rx.Var[StepRow]) -> rx.Component:
    return rx.hstack(
        rx.text(step.duration, size="1", color_scheme="gray"),
        rx.text("·", size="1", color_scheme="gray"),
        rx.text(
            rx.cond(step.attempts == 1, "1 attempt", step.attempts.to_string() + " attempts"),
            size="1",
            color_scheme="gray",
        ),
        rx.text("·", size="1", color_scheme="gray"),
        rx.text(step.cost, size="1", color_scheme="gray"),
        spacing="1",
    )


def _error(step: rx.Var[StepRow]) -> rx.Component:
    """Two lines of the error; the summary toggles the whole text."""
    return rx.el.details(
        rx.el.summary(
            rx.text(step.error, size="1", color_scheme="red", class_name="jm-step-error"),
            rx.cond(
                step.error_long,
                rx.text(
                    rx.el.span("Show full error", class_name="jm-more"),
                    rx.el.span("Show less", class_name="jm-less"),
                    size="1",
                    color_scheme="gray",
                    class_name="jm-error-toggle",
                ),
            ),
            aria_label="Error of " + step.name,
        ),
        class_name="jm-step-error-box",
    )


def step_item(
    step: rx.Var[StepRow], selected_key: rx.Var[str], on_select: Callable[[Any], Any]
) -> rx.Component:
    selected = selected_key == step.key
    return rx.box(
        _button(step, selected, on_select),
        rx.cond(step.error != "", _error(step)),
        class_name=rx.cond(
            selected,
            "jm-step-item jm-step-selected",
            rx.cond(step.status == "running", "jm-step-item jm-step-running", "jm-step-item"),
        ),
    )


def _button(
    step: rx.Var[StepRow], selected: rx.Var[bool], on_select: Callable[[Any], Any]
) -> rx.Component:
    return rx.el.button(
        rx.hstack(
            rx.text(step.index, size="1", color_scheme="gray", class_name="jm-step-index"),
            status_icon(step.status),
            rx.vstack(
                rx.hstack(
                    rx.text(step.name, size="2", weight="medium", class_name="jm-step-name"),
                    rx.text(
                        step.status,
                        size="1",
                        color="var(--" + status_color(step.status) + "-11)",
                        class_name="jm-step-status",
                    ),
                    spacing="2",
                    align="baseline",
                ),
                _meta(step),
                rx.cond(
                    _is_active(step.status),
                    rx.progress(
                        value=step.progress,
                        max=100,
                        size="1",
                        aria_label=step.name + " progress",
                        width="100%",
                    ),
                ),
                spacing="1",
                align="start",
                min_width="0",
                flex="1",
            ),
            _bar(step),
            align="start",
            spacing="3",
            width="100%",
        ),
        id="step-" + step.key,
        type="button",
        aria_pressed=rx.cond(selected, "true", "false"),
        aria_label="Step " + step.index.to_string() + " " + step.name,
        on_click=on_select(step.key),
        custom_attrs={"data-step-key": step.key, "data-status": step.status},
        class_name="jm-step",
    )


def axis(ticks: rx.Var[list[str]]) -> rx.Component:
    return rx.hstack(
        rx.foreach(ticks, lambda t: rx.text(t, size="1", color_scheme="gray")),
        justify="between",
        class_name="jm-axis",
    )


def step_timeline(
    steps: rx.Var[list[StepRow]],
    selected_key: rx.Var[str],
    ticks: rx.Var[list[str]],
    on_select: Callable[[Any], Any],
) -> rx.Component:
    return rx.vstack(
        axis(ticks),
        rx.vstack(
            rx.foreach(steps, lambda s: step_item(s, selected_key, on_select)),
            spacing="1",
            width="100%",
            role="group",
            aria_label="Steps",
        ),
        spacing="2",
        width="100%",
    )
