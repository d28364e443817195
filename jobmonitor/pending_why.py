"""Why a pending job waits ("2 workers, both busy", "no worker listens on queue X"): a line
under the job page's status while the job is pending, from `GET /workers`, refreshed every
3 s while it shows. Its own small state, so the job page only places the component."""

from __future__ import annotations

import reflex as rx

from apiclient.errors import ApiError
from jobmonitor.state import client_of

REFRESH_MS = 3000


class PendingWhyState(rx.State):
    reason: str = ""
    workers_busy: bool = False  # amber when every worker is busy or none listens

    @rx.event(background=True)
    async def refresh(self, _now: str = "") -> None:
        """In the background: a slow answer never holds up the job page's own events."""
        async with self:
            client = await client_of(self)
        try:
            w = await client.workers()
        except ApiError:
            return  # the job page shows its own connection state
        async with self:
            self.reason = w.dispatch.reason
            self.workers_busy = w.dispatch.busy >= w.dispatch.live


def pending_why(status: rx.Var[str]) -> rx.Component:
    """Nothing unless `status` is pending."""
    return rx.cond(
        status == "pending",
        rx.hstack(
            rx.icon("hourglass", size=14, color="var(--gray-11)"),
            rx.text(
                rx.text.strong("Waiting: "),
                rx.cond(PendingWhyState.reason != "", PendingWhyState.reason, "checking workers…"),
                " · ",
                rx.link("see Workers", href="/workers"),
                size="2",
                color=rx.cond(PendingWhyState.workers_busy, "var(--amber-11)", "var(--gray-11)"),
            ),
            rx.moment(interval=REFRESH_MS, on_change=PendingWhyState.refresh, display="none"),
            on_mount=PendingWhyState.refresh,
            spacing="2",
            align="center",
            role="status",
            aria_label="Why this job is pending",
        ),
    )
