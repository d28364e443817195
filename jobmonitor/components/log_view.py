"""The step panel's log lines: a minimum-level filter, a search within the attempt's lines,
and follow mode (the box stays at the newest line as lines arrive) with a Pause that freezes
what is shown until Follow. Lines render as text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from jobmonitor.step_panel import LEVEL_CHOICES
from jobmonitor.viewmodels import LogRow


@dataclass(frozen=True)
class LogControls:
    """The Vars and handlers of the log panel (the page state's `LogView` mixin)."""

    lines: rx.Var[list[LogRow]]  # filtered, and frozen while paused
    total: rx.Var[int]  # lines of the attempt, before the filter
    level_label: rx.Var[str]
    query: rx.Var[str]
    paused: rx.Var[bool]
    held: rx.Var[int]  # lines that arrived while paused
    live: rx.Var[bool]  # the step is still running: lines may arrive
    on_level: Callable[[Any], Any]
    on_query: Callable[[Any], Any]
    on_pause: Any
    on_follow: Any


def _log_line(line: rx.Var[LogRow]) -> rx.Component:
    return rx.el.div(
        rx.el.span(line.time, class_name="jm-log-time"),
        rx.el.span(line.level, class_name="jm-log-level jm-log-" + line.level.lower()),
        rx.el.span(line.message, class_name="jm-log-message"),
        class_name="jm-log-line",
        custom_attrs={"data-level": line.level.lower()},
    )


def _toolbar(c: LogControls) -> rx.Component:
    return rx.flex(
        rx.el.select(
            *[rx.el.option(label, value=label) for label in LEVEL_CHOICES],
            value=c.level_label,
            on_change=c.on_level,
            aria_label="Log level",
            class_name="jm-native-select jm-log-level-select",
        ),
        rx.input(
            rx.input.slot(rx.icon("search", size=12)),
            placeholder="Search logs",
            value=c.query,
            on_change=c.on_query.debounce(250),  # type: ignore[attr-defined]
            size="1",
            aria_label="Search logs",
            type="search",
            class_name="jm-log-search",
        ),
        rx.cond(
            ~c.live & ~c.paused,
            rx.fragment(),
            rx.cond(
                c.paused,
                rx.button(
                    rx.icon("play", size=12),
                    rx.cond(c.held > 0, "Follow (" + c.held.to_string() + " new)", "Follow"),
                    size="1",
                    variant="soft",
                    on_click=c.on_follow,
                ),
                rx.button(
                    rx.icon("pause", size=12),
                    "Pause",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=c.on_pause,
                    title="Freeze the lines shown; new ones wait until Follow",
                ),
            ),
        ),
        spacing="2",
        wrap="wrap",
        align="center",
        width="100%",
        class_name="jm-log-toolbar",
    )


def log_panel(c: LogControls, attempt: rx.Var[int]) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(
                rx.cond(attempt > 0, "Logs of attempt " + attempt.to_string(), "Logs"),
                as_="h3",
                size="2",
            ),
            rx.text(
                rx.cond(
                    c.paused,
                    "paused",
                    rx.cond(c.live, "following", ""),
                ),
                size="1",
                color_scheme=rx.cond(c.paused, "amber", "gray"),
            ),
            align="baseline",
            spacing="2",
        ),
        _toolbar(c),
        rx.cond(
            c.lines.length() > 0,
            rx.box(
                rx.box(rx.foreach(c.lines, _log_line)),
                class_name="jm-logs jm-logs-follow",  # anchored at the newest line, paused or not
                role="log",
                aria_label="Log lines",
            ),
            rx.text(
                rx.cond(c.total > 0, "No log lines match.", "No log lines."),
                size="1",
                color_scheme="gray",
            ),
        ),
        width="100%",
        spacing="2",
    )
