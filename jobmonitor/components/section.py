"""A titled card section: the building block of the workflow and workers pages."""

from __future__ import annotations

import reflex as rx


def card_section(title: str, *children: rx.Component) -> rx.Component:
    """A `<section>` named by its title (for screen readers and tests) holding one card."""
    return rx.el.section(
        rx.card(
            rx.vstack(rx.heading(title, as_="h2", size="3"), *children, spacing="3", width="100%"),
            width="100%",
        ),
        aria_label=title,
        width="100%",
    )
