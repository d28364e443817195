"""The step details panel: status, attempt, action and params, timestamps, input/output,
error and traceback, the retry history (one row per attempt), the selected attempt's log
lines, cost and metrics. Everything user-provided renders as text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from jobmonitor.components.json_view import json_section, labelled
from jobmonitor.components.status_badge import status_badge
from jobmonitor.components.time import timestamp
from jobmonitor.viewmodels import AttemptRow, LogRow, StepDetail, StepRow


def _attempt_row(
    a: rx.Var[AttemptRow], current: rx.Var[int], on_select: Callable[[Any], Any]
) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.button(
                "#" + a.number.to_string(),
                variant=rx.cond(current == a.number, "solid", "ghost"),
                size="1",
                aria_label="Attempt " + a.number.to_string(),
                aria_pressed=rx.cond(current == a.number, "true", "false"),
                on_click=on_select(a.number),
            )
        ),
        rx.table.cell(status_badge(a.status)),
        rx.table.cell(rx.text(a.worker, size="1", class_name="jm-nowrap")),
        rx.table.cell(rx.text(timestamp(a.started_at), size="1", class_name="jm-nowrap")),
        rx.table.cell(rx.text(a.duration, size="1")),
        rx.table.cell(
            rx.text(a.error, size="1", color_scheme="red", class_name="jm-clamp"), min_width="200px"
        ),
    )


def retry_history(
    attempts: rx.Var[list[AttemptRow]], current: rx.Var[int], on_select: Callable[[Any], Any]
) -> rx.Component:
    return rx.vstack(
        rx.heading("Retry history", as_="h3", size="2"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Attempt", "Status", "Worker", "Started", "Duration", "Error")
                    ]
                )
            ),
            rx.table.body(rx.foreach(attempts, lambda a: _attempt_row(a, current, on_select))),
            size="1",
            width="100%",
        ),
        width="100%",
        spacing="2",
    )


def _log_line(line: rx.Var[LogRow]) -> rx.Component:
    return rx.el.div(
        rx.el.span(line.time, class_name="jm-log-time"),
        rx.el.span(line.level, class_name="jm-log-level jm-log-" + line.level.lower()),
        rx.el.span(line.message, class_name="jm-log-message"),
        class_name="jm-log-line",
    )


def log_panel(logs: rx.Var[list[LogRow]], attempt: rx.Var[int]) -> rx.Component:
    return rx.vstack(
        rx.heading(
            rx.cond(attempt > 0, "Logs of attempt " + attempt.to_string(), "Logs"),
            as_="h3",
            size="2",
        ),
        rx.cond(
            logs.length() > 0,
            rx.box(
                rx.foreach(logs, _log_line),
                class_name="jm-logs",
                role="log",
                aria_label="Log lines",
            ),
            rx.text("No log lines.", size="1", color_scheme="gray"),
        ),
        width="100%",
        spacing="2",
    )


def _facts(
    step: rx.Var[StepRow], detail: rx.Var[StepDetail], attempt: rx.Var[AttemptRow]
) -> rx.Component:
    of_max = rx.cond(detail.max_attempts > 0, " of " + detail.max_attempts.to_string(), "")
    return rx.grid(
        labelled("Status", status_badge(step.status)),
        labelled("Attempt", rx.text(step.attempts.to_string() + of_max, size="2")),
        labelled("Action", rx.code(detail.action, size="2")),
        labelled("Depends on", rx.cond(detail.depends_on != "", detail.depends_on, "—")),
        labelled("Started", timestamp(detail.started_at)),
        labelled("Completed", timestamp(detail.completed_at)),
        labelled("Duration", step.duration),
        labelled("Cost", step.cost),
        labelled("Metrics", rx.cond(attempt.metrics != "", attempt.metrics, "—")),
        columns="2",
        spacing="3",
        width="100%",
    )


def step_details(
    step: rx.Var[StepRow],
    detail: rx.Var[StepDetail],
    attempts: rx.Var[list[AttemptRow]],
    attempt: rx.Var[AttemptRow],
    current: rx.Var[int],
    logs: rx.Var[list[LogRow]],
    on_select_attempt: Callable[[Any], Any],
) -> rx.Component:
    return rx.cond(
        step.key != "",
        rx.vstack(
            rx.heading(step.index.to_string() + ". " + step.name, as_="h2", size="4"),
            _facts(step, detail, attempt),
            rx.cond(
                detail.reused_from != "",
                rx.link(
                    "Reused (not run again): output of job " + detail.reused_from.to(str)[:8],
                    href="/jobs/" + detail.reused_from,
                    size="2",
                ),
            ),
            rx.cond(
                step.error != "",
                rx.callout.root(
                    rx.callout.icon(rx.icon("circle-x")),
                    rx.callout.text(
                        rx.cond(detail.error_type != "", detail.error_type + ": ", ""), step.error
                    ),
                    color_scheme="red",
                    role="alert",
                    width="100%",
                ),
            ),
            rx.cond(attempt.traceback != "", json_section("Traceback", attempt.traceback)),
            json_section("Params", detail.params_json),
            json_section("Input", detail.input_json),
            json_section("Output", detail.output_json, open_=step.status == "completed"),
            rx.cond(attempts.length() > 0, retry_history(attempts, current, on_select_attempt)),
            log_panel(logs, current),
            spacing="3",
            width="100%",
            align="start",
        ),
        rx.text("Select a step to see its details.", size="2", color_scheme="gray"),
    )
