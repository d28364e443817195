"""The job list's "Compare selected" button: shown when exactly two rows are selected."""

from __future__ import annotations

import reflex as rx


def compare_selected(selected: rx.Var[list[str]]) -> rx.Component:
    return rx.cond(
        selected.length() == 2,
        rx.link(
            rx.button("Compare selected", size="1", variant="soft"),
            href="/compare?a=" + selected[0] + "&b=" + selected[1],
        ),
    )
