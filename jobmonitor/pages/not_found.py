"""The page for a route the monitor does not have: the navigation, and where to go instead."""

from __future__ import annotations

import reflex as rx

from jobmonitor import routes
from jobmonitor.pages.shell import error_state, frame


def not_found_page() -> rx.Component:
    """Shown signed in or not (the navigation offers Sign in when signed out)."""
    return frame(
        error_state(
            "Page not found",
            "There is no page at " + rx.State.router.url.path + ".",
            rx.link(rx.button("Go to jobs"), href=routes.JOBS),
            rx.link(rx.button("Workflows", variant="soft"), href=routes.WORKFLOWS),
            icon="map-pin-off",
        ),
    )
