"""The frame around every signed-in page: navigation (marking the current page), sign out,
the live/polling chip, and the banner shown while the app's connection is lost. A signed-out
browser gets none of it: pages render their frame only once a token is known, so the
redirect to the sign-in page never shows the app first."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from jobmonitor import routes
from jobmonitor.navstate import NavState, ViewLink
from jobmonitor.state import AuthState

CONNECTION_LOST = "Connection lost, reconnecting; data may be stale"


def _path() -> rx.Var[str]:
    return rx.State.router.url.path


def _current(*paths: str, under: str = "") -> rx.Var[bool]:
    """True on any of `paths`, or on any page under `under` (`/jobs/` for a job's page)."""
    path = _path()
    result: rx.Var[bool] = path.startswith(under) if under else rx.Var.create(False)
    for exact in paths:
        result = result | (path == exact)
    return result


def _nav_props(current: rx.Var[bool]) -> dict[str, object]:
    """What marks the current page's link: aria-current (screen readers) and its style."""
    return {
        "aria_current": rx.cond(current, "page", "false"),
        "class_name": rx.cond(current, "jm-nav-link jm-nav-current", "jm-nav-link"),
    }


def _nav_link(label: str, href: str, current: rx.Var[bool]) -> rx.Component:
    return rx.link(
        label,
        href=href,
        size="2",
        weight="medium",
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        **_nav_props(current),
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
        **_nav_props(_current(routes.FAILURES, under=routes.FAILURES + "/")),
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


def _brand() -> rx.Component:
    return rx.link(
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
    )


def navbar() -> rx.Component:
    return rx.el.header(
        rx.hstack(
            rx.hstack(
                _brand(),
                rx.el.nav(
                    rx.hstack(
                        _nav_link(
                            "Jobs",
                            routes.JOBS,
                            _current(routes.HOME, routes.JOBS, under=routes.JOBS + "/"),
                        ),
                        _nav_link(
                            "Workflows",
                            routes.WORKFLOWS,
                            _current(routes.WORKFLOWS, under=routes.WORKFLOWS + "/"),
                        ),
                        _failures_link(),
                        _nav_link("Workers", routes.WORKERS, _current(routes.WORKERS)),
                        _views_menu(),
                        spacing="1",
                        align="center",
                    ),
                    aria_label="Main",
                ),
                spacing="6",
                align="center",
            ),
            rx.cond(
                AuthState.token != "",
                rx.button(
                    rx.icon("log-out", size=14),
                    "Sign out",
                    variant="ghost",
                    size="1",
                    on_click=AuthState.sign_out,
                ),
                rx.link("Sign in", href=routes.SIGNIN, size="2"),
            ),
            justify="between",
            align="center",
            width="100%",
            class_name="jm-header-bar",
        ),
        connection_banner(),
        class_name="jm-header",
    )


def connection_banner() -> rx.Component:
    """A full-width bar while the app's connection to its server is lost (the page's data
    stops updating until it is back); it goes away on reconnect."""
    return rx.cond(
        has_connection_errors,
        rx.hstack(
            rx.icon("wifi-off", size=16),
            rx.text(CONNECTION_LOST, size="2", weight="medium"),
            rx.spinner(size="1"),
            align="center",
            spacing="2",
            role="alert",
            class_name="jm-offline-banner",
        ),
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


def frame(*children: rx.Component, **props: object) -> rx.Component:
    """The navigation and the page's content."""
    return rx.box(
        navbar(),
        rx.el.main(rx.vstack(*children, spacing="4", width="100%", **props), class_name="jm-main"),
        class_name="jm-app",
    )


def page(*children: rx.Component, **props: object) -> rx.Component:
    """A signed-in page: the frame once the browser's token is known; before, only the bar
    with the product's name (a signed-out visit is redirected from there, never seeing the
    navigation, Sign out or a page's chips)."""
    return rx.cond(
        AuthState.token != "",
        frame(*children, **props),
        rx.box(
            rx.el.header(
                rx.hstack(_brand(), align="center", class_name="jm-header-bar"),
                connection_banner(),
                class_name="jm-header",
            ),
            class_name="jm-app",
            aria_busy="true",
        ),
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
