"""The step details panel: status and which attempt is shown ("Attempt 1 of 3"), when a
retrying step tries next, the shown attempt's error and traceback, action and params,
timestamps, input/output, the retry history (one stacked entry per attempt, its error always
in view), the attempt's log lines, cost and metrics. Everything user-provided renders as text.

The panel is about 450 px wide beside the timeline at 1440 px, so nothing here is a wide
table: facts sit in two columns that wrap long values, and each attempt is a two-line entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from jobmonitor.components.json_view import json_section, labelled
from jobmonitor.components.log_view import LogControls, log_panel
from jobmonitor.components.status_badge import status_badge
from jobmonitor.components.time import timestamp
from jobmonitor.viewmodels import AttemptRow, StepDetail, StepRow


@dataclass(frozen=True)
class AttemptControls:
    """Which attempt the panel shows and how to change it."""

    attempts: rx.Var[list[AttemptRow]]
    shown: rx.Var[AttemptRow]  # the attempt whose error, logs and output show
    number: rx.Var[int]
    pinned: rx.Var[bool]  # the user picked it (else the current attempt is followed)
    countdown: rx.Var[str]  # "in 4 s" until a retrying step's next attempt
    on_select: Callable[[Any], Any]
    on_follow: Any
    on_tick: Any  # called every second while the countdown shows


def _attempt_entry(a: rx.Var[AttemptRow], c: AttemptControls) -> rx.Component:
    chosen = c.number == a.number
    return rx.el.li(
        rx.flex(
            rx.button(
                "#" + a.number.to_string(),
                variant=rx.cond(chosen, "solid", "soft"),
                size="1",
                aria_label="Attempt " + a.number.to_string(),
                aria_pressed=rx.cond(chosen, "true", "false"),
                on_click=c.on_select(a.number),
            ),
            status_badge(a.status),
            rx.text(
                timestamp(a.started_at),
                rx.cond(a.duration != "", " · " + a.duration, ""),
                size="1",
                color_scheme="gray",
                class_name="jm-nowrap",
            ),
            rx.cond(
                a.worker != "",
                rx.text(a.worker, size="1", color_scheme="gray", class_name="jm-attempt-worker"),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            a.error != "",
            rx.text(
                a.error, size="1", color_scheme="red", class_name="jm-attempt-error", title=a.error
            ),
        ),
        class_name=rx.cond(chosen, "jm-attempt jm-attempt-chosen", "jm-attempt"),
        custom_attrs={"data-attempt": a.number},
    )


def retry_history(c: AttemptControls) -> rx.Component:
    return rx.vstack(
        rx.heading("Retry history", as_="h3", size="2"),
        rx.el.ul(
            rx.foreach(c.attempts, lambda a: _attempt_entry(a, c)),
            class_name="jm-attempts",
            role="list",
            aria_label="Retry history",
        ),
        width="100%",
        spacing="2",
    )


def _attempt_of(step: rx.Var[StepRow], detail: rx.Var[StepDetail], c: AttemptControls) -> rx.Var:
    number = rx.cond(c.number > 0, c.number, step.attempts)
    of_max = rx.cond(detail.max_attempts > 0, " of " + detail.max_attempts.to_string(), "")
    return number.to_string() + of_max


def _attempt_line(
    step: rx.Var[StepRow], detail: rx.Var[StepDetail], c: AttemptControls
) -> rx.Component:
    """ "Attempt 1 of 3 · Failed · Show current attempt" (when an older one is picked)."""
    return rx.flex(
        rx.text("Attempt " + _attempt_of(step, detail, c), size="2", weight="medium"),
        rx.cond(
            (c.number > 0) & ~c.shown.latest,
            rx.fragment(
                status_badge(c.shown.status),
                rx.text("(not the current attempt)", size="1", color_scheme="gray"),
            ),
        ),
        rx.cond(
            c.pinned & (c.attempts.length() > 1),
            rx.button(
                "Follow current attempt",
                size="1",
                variant="ghost",
                on_click=c.on_follow,
            ),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        aria_label="Shown attempt",
        role="group",
    )


def _next_attempt(
    step: rx.Var[StepRow], detail: rx.Var[StepDetail], c: AttemptControls
) -> rx.Component:
    """ "Next attempt at 09:12:04 (in 4 s)" while a step waits out its retry backoff."""
    return rx.cond(
        (step.status == "retrying") & (detail.next_attempt_at != ""),
        rx.callout.root(
            rx.callout.icon(rx.icon("timer")),
            rx.callout.text(
                "Next attempt at ",
                rx.moment(detail.next_attempt_at, format="HH:mm:ss"),
                rx.cond(c.countdown != "", " (" + c.countdown + ")", ""),
                rx.moment(interval=1000, on_change=c.on_tick, display="none"),
            ),
            color_scheme="amber",
            size="1",
            width="100%",
            aria_label="Next attempt",
        ),
    )


def _facts(
    step: rx.Var[StepRow], detail: rx.Var[StepDetail], attempt: rx.Var[AttemptRow]
) -> rx.Component:
    return rx.el.div(
        labelled("Status", status_badge(step.status)),
        labelled("Cost", step.cost),
        rx.box(
            labelled("Action", rx.code(detail.action, size="2", class_name="jm-wrap")),
            class_name="jm-facts-wide",
        ),
        rx.box(
            labelled(
                "Depends on",
                rx.text(
                    rx.cond(detail.depends_on != "", detail.depends_on, "—"),
                    size="2",
                    class_name="jm-wrap",
                ),
            ),
            class_name="jm-facts-wide",
        ),
        labelled("Started", timestamp(detail.started_at)),
        labelled("Completed", timestamp(detail.completed_at)),
        labelled("Duration", step.duration),
        labelled("Metrics", rx.cond(attempt.metrics != "", attempt.metrics, "—")),
        class_name="jm-facts",
    )


def _error(step: rx.Var[StepRow], detail: rx.Var[StepDetail], c: AttemptControls) -> rx.Component:
    """The shown attempt's error: the step's own (typed) error for the current attempt, the
    attempt's for an older one."""
    older = (c.number > 0) & ~c.shown.latest
    text = rx.cond(
        older,
        c.shown.error,
        rx.cond(detail.error_type != "", detail.error_type + ": ", "") + step.error,
    )
    return rx.cond(
        rx.cond(older, c.shown.error != "", step.error != ""),
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-x")),
            rx.callout.text(text, class_name="jm-wrap"),
            color_scheme="red",
            role="alert",
            width="100%",
        ),
    )


def _output(step: rx.Var[StepRow], detail: rx.Var[StepDetail], c: AttemptControls) -> rx.Component:
    """The step's output is its current attempt's: an older attempt says it has none."""
    return rx.cond(
        (c.number > 0) & ~c.shown.latest,
        rx.vstack(
            rx.text("Output", size="2", weight="medium"),
            rx.text(
                "Attempt " + c.number.to_string() + " returned no output (" + c.shown.status + ").",
                size="1",
                color_scheme="gray",
            ),
            spacing="1",
        ),
        json_section("Output", detail.output_json, open_=step.status == "completed"),
    )


def step_details(
    step: rx.Var[StepRow],
    detail: rx.Var[StepDetail],
    attempts: AttemptControls,
    logs: LogControls,
) -> rx.Component:
    return rx.cond(
        step.key != "",
        rx.vstack(
            rx.heading(
                step.index.to_string() + ". " + step.name, as_="h2", size="4", class_name="jm-wrap"
            ),
            _attempt_line(step, detail, attempts),
            _next_attempt(step, detail, attempts),
            _error(step, detail, attempts),
            _facts(step, detail, attempts.shown),
            rx.cond(
                detail.reused_from != "",
                rx.link(
                    "Reused (not run again): output of job " + detail.reused_from.to(str)[:8],
                    href="/jobs/" + detail.reused_from,
                    size="2",
                ),
            ),
            rx.cond(
                attempts.shown.traceback != "", json_section("Traceback", attempts.shown.traceback)
            ),
            json_section("Params", detail.params_json),
            rx.cond(
                detail.input_json != "",
                json_section("Input", detail.input_json),
                rx.text("Input: recorded when the step starts.", size="2", color_scheme="gray"),
            ),
            _output(step, detail, attempts),
            rx.cond(attempts.attempts.length() > 0, retry_history(attempts)),
            log_panel(logs, attempts.number),
            spacing="3",
            width="100%",
            align="start",
            class_name="jm-step-details",
        ),
        rx.text("Select a step to see its details.", size="2", color_scheme="gray"),
    )
