"""A job action's text on a button or menu item: the page receives the action's value, the
browser shows its label (see `statuses.JobAction`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from jobmonitor.statuses import JobAction


def action_label(action: rx.Var[Any]) -> Any:
    """The label of the JobAction `action` holds, as the browser shows it."""
    return rx.match(action, *((a.value, a.label) for a in JobAction), "")
