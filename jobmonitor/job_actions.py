"""A job's action buttons (the job page's Cancel, Resume, Re-run): Cancel asks first, and a
token that may not act sees them disabled with the reason (`AccessState`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from jobmonitor.components.cancel_confirm import cancel_with_confirm
from jobmonitor.components.guard import denied
from jobmonitor.components.job_action import action_label
from jobmonitor.state import AccessState
from jobmonitor.statuses import JobAction


def job_action_button(
    action: rx.Var[str], busy: rx.Var[str], job_id: rx.Var[str], act: Callable[[Any], Any]
) -> rx.Component:
    """The button of JobAction `action`; `busy` is the action in flight ("" when none),
    `act(action)` the event that performs it."""
    props: dict[str, Any] = {
        "size": "2",
        "variant": "soft",
        "color_scheme": rx.match(
            action, (JobAction.CANCEL.value, "orange"), (JobAction.RESUME.value, "green"), "indigo"
        ),
        "loading": busy == action,
    }
    label = action_label(action)
    return rx.cond(
        AccessState.can_operate,
        rx.cond(
            action == JobAction.CANCEL.value,
            cancel_with_confirm(
                rx.button(label, disabled=busy != "", **props),
                "Cancel job " + job_id.to(str)[:8] + "?",
                act(action),
            ),
            rx.button(label, disabled=busy != "", on_click=act(action), **props),
        ),
        denied(rx.button(label, disabled=True, **props), AccessState.operate_denied),
    )
