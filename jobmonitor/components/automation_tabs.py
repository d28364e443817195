"""The workflow page's Schedules and Budget tabs: each schedule with its next fire times, and
each budget covering the workflow as a bar of spend against its limit."""

from __future__ import annotations

import reflex as rx

from jobmonitor.automation_view import BudgetView, DayBar, ScheduleView

BUDGET_COLORS = {"ok": "green", "warn": "amber", "spent": "red"}


def _schedule(s: rx.Var[ScheduleView]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(s.name, weight="bold"),
                rx.badge(s.state, color_scheme=rx.cond(s.state == "active", "green", "gray")),
                rx.text(s.when, size="2", color_scheme="gray"),
                spacing="2",
                align="center",
            ),
            rx.text(s.policy, size="1", color_scheme="gray"),
            rx.text("Next fire times", size="1", weight="medium"),
            rx.el.ol(
                rx.foreach(s.next_times, lambda x: rx.el.li(rx.text(x, size="2"))),
                aria_label="Next fire times of " + s.name,
                style={"margin": 0, "paddingLeft": "1.2em"},
            ),
            spacing="1",
        ),
        role="group",
        aria_label="Schedule " + s.name,
        width="100%",
    )


def _day(d: rx.Var[DayBar]) -> rx.Component:
    return rx.box(
        rx.box(
            class_name="jm-chart-bar",
            style={
                "height": d.height.to_string() + "%",
                "background": rx.cond(d.over, "var(--red-9)", "var(--accent-9)"),
            },
        ),
        title=d.label,
        aria_label=d.label,
        role="img",
        class_name="jm-chart-slot",
    )


def _daily_chart(b: rx.Var[BudgetView]) -> rx.Component:
    return rx.box(
        rx.foreach(b.days, _day),
        rx.cond(
            b.limit_line >= 0,
            rx.box(
                style={
                    "position": "absolute",
                    "left": 0,
                    "right": 0,
                    "bottom": b.limit_line.to_string() + "%",
                    "borderTop": "2px dashed var(--red-9)",
                },
                title="daily limit",
            ),
        ),
        class_name="jm-chart",
        style={"position": "relative", "height": "90px"},
        role="figure",
        aria_label="Daily spend of " + b.label,
    )


def _budget(b: rx.Var[BudgetView]) -> rx.Component:
    return rx.vstack(
        rx.text(b.label, size="2", weight="medium"),
        rx.box(
            rx.box(
                style={
                    "width": b.percent.to_string() + "%",
                    "height": "100%",
                    "background": rx.match(
                        b.state,
                        ("spent", "var(--red-9)"),
                        ("warn", "var(--amber-9)"),
                        "var(--green-9)",
                    ),
                }
            ),
            rx.box(
                style={
                    "position": "absolute",
                    "left": b.warn_at.to_string() + "%",
                    "top": 0,
                    "bottom": 0,
                    "borderLeft": "2px dashed var(--gray-11)",
                },
                title="warn threshold",
            ),
            style={
                "position": "relative",
                "width": "100%",
                "height": "14px",
                "background": "var(--gray-4)",
                "borderRadius": "3px",
                "overflow": "hidden",
            },
            role="progressbar",
            aria_label="Spend of " + b.label,
            aria_valuenow=b.percent,
            aria_valuemin=0,
            aria_valuemax=100,
        ),
        rx.text(b.spent, size="1", color_scheme="gray"),
        rx.text("Spend per day, last 14 days", size="1", weight="medium"),
        _daily_chart(b),
        spacing="1",
        width="100%",
    )


def automation_tabs(
    schedules: rx.Var[list[ScheduleView]], budgets: rx.Var[list[BudgetView]]
) -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Schedules", value="schedules"),
            rx.tabs.trigger("Budget", value="budget"),
        ),
        rx.tabs.content(
            rx.cond(
                schedules.length() > 0,
                rx.vstack(rx.foreach(schedules, _schedule), spacing="2", width="100%"),
                rx.text(
                    "No schedules. Add one: jobmonitor schedule add WORKFLOW --name N --cron ...",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            value="schedules",
            padding_top="0.75em",
        ),
        rx.tabs.content(
            rx.cond(
                budgets.length() > 0,
                rx.vstack(rx.foreach(budgets, _budget), spacing="3", width="100%"),
                rx.text("No budget covers this workflow.", size="2", color_scheme="gray"),
            ),
            value="budget",
            padding_top="0.75em",
        ),
        default_value="schedules",
        width="100%",
    )
