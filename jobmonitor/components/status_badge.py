"""The status chip (colour, icon, label) and the timeline's status icon: one `rx.match` over every status."""

from __future__ import annotations

import reflex as rx

from jobmonitor.statuses import STATUS_STYLES, UNKNOWN_STYLE, StatusStyle


def _chip(s: StatusStyle) -> rx.Component:
    return rx.badge(
        rx.icon(s.icon, size=12),
        s.label,
        color_scheme=s.color,  # type: ignore[arg-type]
        variant="soft",
        radius="full",
        class_name="jm-pulse" if s.pulse else "",
    )


def status_badge(status: rx.Var[str] | str) -> rx.Component:
    """A coloured chip with icon and label (running and retrying pulse)."""
    cases = [(name, _chip(s)) for name, s in STATUS_STYLES.items()]
    return rx.match(status, *cases, _chip(UNKNOWN_STYLE))


def _icon(s: StatusStyle, size: int) -> rx.Component:
    return rx.icon(
        s.icon,
        size=size,
        color=f"var(--{s.color}-11)",
        class_name="jm-spin" if s.icon == "loader-circle" else "",
        aria_label=s.label,
    )


def status_icon(status: rx.Var[str] | str, size: int = 18) -> rx.Component:
    """The status as a coloured icon (labelled for screen readers)."""
    cases = [(name, _icon(s, size)) for name, s in STATUS_STYLES.items()]
    return rx.match(status, *cases, _icon(UNKNOWN_STYLE, size))


def status_color(status: rx.Var[str]) -> rx.Var[str]:
    """The status's Radix colour name as a Var (for bars and borders)."""
    cases = [(name, s.color) for name, s in STATUS_STYLES.items()]
    return rx.match(status, *cases, UNKNOWN_STYLE.color).to(str)  # type: ignore[union-attr]


def waiting_chip(label: rx.Var[str]) -> rx.Component:
    """A job waiting for a person ("Waiting for review"); nothing when `label` is empty."""
    return rx.cond(
        label != "",
        rx.badge(rx.icon("hand", size=12), label, color_scheme="violet", variant="solid"),
    )
