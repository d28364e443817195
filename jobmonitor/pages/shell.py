"""The frame around every signed-in page: navigation, sign out, and the live/polling chip."""

from __future__ import annotations

import reflex as rx

from jobmonitor import routes
from jobmonitor.navstate import NavState, ViewLink
from jobmonitor.state import AuthState


def _nav_link(label: str, href: str) -> rx.Component:
    return rx.link(
        label,
        href=href,
        size="2",
        weight="medium",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
    )


def _failures_link() -> rx.Component:
    """Failures, with the number of open failure groups."""
    count = NavState.open_failures
    return rx.link(
        rx.hstack(
            rx.text("Failures"),
            rx.cond(
                count > 0,
                rx.badge(count, color_scheme="red", radius="full", variant="solid", size="1"),
            ),
            spacing="1",
            align="center",
        ),
        href=routes.FAILURES,
        size="2",
        weight="medium",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        aria_label="Failures, " + count.to_string() + " open",
    )


def _view_item(view: rx.Var[ViewLink]) -> rx.Component:
    return rx.menu.item(
        rx.link(view.name, href=view.href, underline="none", color_scheme="gray"),
        rx.cond(view.shared, rx.badge("shared", size="1", variant="soft")),
    )


def _views_menu() -> rx.Component:
    """Saved views: named searches of the job list."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button("Views", rx.icon("chevron-down", size=12), variant="ghost", size="1")
        ),
        rx.menu.content(
            rx.cond(
                NavState.views.length() > 0,
                rx.foreach(NavState.views, _view_item),
                rx.menu.item("No saved views: save a search on Jobs", disabled=True),
            )
        ),
    )


def navbar() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.hstack(
                rx.link(
                    rx.hstack(
                        rx.icon("activity", size=18),
                        rx.text("Jobmonitor", weight="bold"),
                        spacing="2",
                        align="center",
                    ),
                    href=routes.JOBS,
                    underline="none",
                    color_scheme="gray",
                    high_contrast=True,
                ),
                rx.el.nav(
                    rx.hstack(
                        _nav_link("Jobs", routes.JOBS),
                        _nav_link("Workflows", routes.WORKFLOWS),
                        _failures_link(),
                        _nav_link("Workers", routes.WORKERS),
                        _views_menu(),
                        spacing="4",
                        align="center",
                    ),
                    aria_label="Main",
                ),
                spacing="6",
                align="center",
            ),
            rx.button(
                rx.icon("log-out", size=14),
                "Sign out",
                variant="ghost",
                size="1",
                on_click=AuthState.sign_out,
            ),
            justify="between",
            align="center",
            width="100%",
        ),
        class_name="jm-header",
    )


def live_chip(live: rx.Var[bool], poll_seconds: float) -> rx.Component:
    """ "Live" while the event stream is connected, else "Polling every N s"."""
    return rx.cond(
        live,
        rx.badge(
            rx.icon("radio", size=12),
            "Live",
            color_scheme="green",
            variant="surface",
            role="status",
        ),
        rx.badge(
            rx.icon("refresh-cw", size=12),
            f"Polling every {poll_seconds:g} s",
            color_scheme="amber",
            variant="surface",
            role="status",
        ),
    )


def page(*children: rx.Component, **props: object) -> rx.Component:
    return rx.box(
        navbar(),
        rx.el.main(rx.vstack(*children, spacing="4", width="100%", **props), class_name="jm-main"),
        class_name="jm-app",
    )


def error_state(
    title: str, message: rx.Var[str] | str, *actions: rx.Component, icon: str = "circle-alert"
) -> rx.Component:
    """A centred message for a page that could not load (with its way out)."""
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=36, color="var(--gray-9)"),
            rx.heading(title, size="5", as_="h2"),
            rx.text(message, color_scheme="gray", size="2", text_align="center"),
            rx.hstack(*actions, spacing="3"),
            align="center",
            spacing="3",
            max_width="480px",
        ),
        padding_y="64px",
        width="100%",
        role="alert" if icon != "loader-circle" else "status",
    )
