"""Save the job list's search as a named view (yours, or shared with the workspace); the
views are listed in the navigation (NavState)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from apiclient.errors import ApiError
from jobmonitor.navstate import NavState
from jobmonitor.state import client_of


class SaveViewState(rx.State):
    is_open: bool = False
    query: str = ""
    name: str = ""
    shared: bool = False
    error: str = ""

    @rx.event
    def open_dialog(self, query: str) -> None:
        self.is_open, self.query, self.name, self.shared, self.error = True, query, "", False, ""

    @rx.event
    def set_open(self, value: bool) -> None:
        self.is_open = value

    @rx.event
    def set_name(self, value: str) -> None:
        self.name, self.error = value, ""

    @rx.event
    def set_shared(self, value: bool) -> None:
        self.shared = value

    @rx.event
    async def save(self) -> AsyncIterator[Any]:
        if not self.name.strip():
            self.error = "Give the view a name."
            return
        try:
            await (await client_of(self)).save_view(self.name.strip(), self.query, self.shared)
        except ApiError as exc:
            self.error = exc.message
            return
        self.is_open = False
        yield rx.toast.success(f"Saved view {self.name.strip()}")
        yield NavState.load


def save_view_button(query: rx.Var[str]) -> rx.Component:
    return rx.button(
        rx.icon("bookmark-plus", size=14),
        "Save view",
        variant="soft",
        size="2",
        disabled=query.strip() == "",
        on_click=SaveViewState.open_dialog(query),
    )


def save_view_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Save this search as a view"),
            rx.vstack(
                rx.code(SaveViewState.query, size="2"),
                rx.el.label("Name", html_for="view-name", class_name="jm-label"),
                rx.input(
                    id="view-name",
                    value=SaveViewState.name,
                    on_change=SaveViewState.set_name,
                    width="100%",
                ),
                rx.checkbox(
                    "Share with the workspace",
                    checked=SaveViewState.shared,
                    on_change=SaveViewState.set_shared,
                ),
                rx.cond(
                    SaveViewState.error != "",
                    rx.text(SaveViewState.error, color_scheme="red", size="2", role="alert"),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=SaveViewState.save),
                    justify="end",
                    width="100%",
                ),
                spacing="3",
            ),
        ),
        open=SaveViewState.is_open,
        on_open_change=SaveViewState.set_open,
    )
