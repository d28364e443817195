"""The confirmation before cancelling one job (the job page's Cancel, a row's menu), worded
after what the API does: `POST /jobs/{id}/cancel` cancels the job and its unfinished steps
at once; a worker running one of them notices at its next heartbeat (at most a second apart)
and interrupts it, and whatever that attempt still writes is fenced out."""

from __future__ import annotations

from typing import Any

import reflex as rx

CANCEL_EFFECT = (
    "The running step is interrupted at its worker's next heartbeat (within about a second) "
    "and recorded as cancelled; what it has not saved yet is discarded. Steps that have not "
    "started will not run. Finished steps keep their output: Resume runs the job on from the "
    "cancelled step."
)


def cancel_confirm_content(title: Any, on_confirm: Any) -> rx.Component:
    """The dialog's content: `title` (e.g. "Cancel job 1a2b3c4d?"), what happens, and the
    buttons; "Yes, cancel job" runs `on_confirm`."""
    return rx.alert_dialog.content(
        rx.alert_dialog.title(title),
        rx.alert_dialog.description(CANCEL_EFFECT, size="2"),
        rx.hstack(
            rx.alert_dialog.cancel(
                rx.button("Keep it running", variant="soft", color_scheme="gray")
            ),
            rx.alert_dialog.action(
                rx.button("Yes, cancel job", color_scheme="red", on_click=on_confirm)
            ),
            justify="end",
            spacing="3",
            margin_top="16px",
        ),
        max_width="480px",
    )


def cancel_with_confirm(trigger: rx.Component, title: Any, on_confirm: Any) -> rx.Component:
    """`trigger` (a button without its own on_click) opens the confirmation."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger), cancel_confirm_content(title, on_confirm)
    )


def cancel_dialog(
    open_: rx.Var[bool], on_open_change: Any, title: Any, on_confirm: Any
) -> rx.Component:
    """The confirmation opened by state (from a menu item, which closes with its menu)."""
    return rx.alert_dialog.root(
        cancel_confirm_content(title, on_confirm), open=open_, on_open_change=on_open_change
    )
