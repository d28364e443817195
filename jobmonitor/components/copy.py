"""A small button that copies a value (a job id) to the clipboard."""

from __future__ import annotations

import reflex as rx


def copy_button(value: rx.Var[str] | str, label: str = "Copy") -> rx.Component:
    return rx.tooltip(
        rx.icon_button(
            rx.icon("copy", size=12),
            variant="ghost",
            size="1",
            color_scheme="gray",
            aria_label=label,
            on_click=[
                rx.set_clipboard(value),
                rx.toast.info("Copied to the clipboard", duration=1500),
            ],
        ),
        content=label,
    )
