"""Workers and queues (`/workers`): the live rq workers (name, host, pid, state, the step each
runs and since when, heartbeat age), the depth of each queue, the reapers' latest recoveries,
and what a pending job would wait for now. Refreshed every 2 s while the page is open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from apiclient import ops_models as ops
from apiclient.client import ApiClient
from apiclient.errors import ApiError, Unauthorized
from jobmonitor.components.section import card_section
from jobmonitor.components.time import relative_time, timestamp
from jobmonitor.pages.shell import error_state, page
from jobmonitor.state import client_of, error_kind, requires_sign_in, signin_redirect
from jobmonitor.workers_view import (
    QueueRow,
    RecoveredRow,
    RecoveryRow,
    WorkerRow,
    queue_rows,
    recovery_rows,
    worker_rows,
)

REFRESH_MS = 2000


class WorkersState(rx.State):
    workers: list[WorkerRow] = []
    queues: list[QueueRow] = []
    reapers: list[RecoveryRow] = []
    queue: str = ""
    reason: str = ""
    loading: bool = True
    load_error: str = ""
    load_message: str = ""

    @rx.event
    @requires_sign_in
    async def load(self) -> AsyncIterator[Any]:
        self.load_error = ""
        try:
            await self._fetch(await client_of(self))
        except ApiError as exc:
            self.load_error, self.load_message = error_kind(exc), exc.message
            if isinstance(exc, Unauthorized):
                yield signin_redirect(self.router.url.path)
        self.loading = False

    @rx.event(background=True)
    async def refresh(self, _now: str = "") -> None:
        """The page's 2 s tick (rx.moment): heartbeat ages and queue depths move. In the
        background, so a slow answer never holds up a click."""
        async with self:
            if self.load_error or self.loading:
                return
            client = await client_of(self)
        try:
            w = await client.workers()
        except ApiError as exc:
            async with self:
                self.load_error, self.load_message = error_kind(exc), exc.message
            return
        async with self:
            self._show(w)

    async def _fetch(self, client: ApiClient) -> None:
        self._show(await client.workers())

    def _show(self, w: ops.Workers) -> None:
        self.workers, self.queues, self.reapers = worker_rows(w), queue_rows(w), recovery_rows(w)
        self.queue, self.reason = w.queue, w.dispatch.reason


def _th(label: str) -> rx.Component:
    return rx.table.column_header_cell(label)


def _worker(w: rx.Var[WorkerRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(w.name, size="2", class_name="jm-mono")),
        rx.table.cell(w.host),
        rx.table.cell(w.pid),
        rx.table.cell(
            rx.badge(
                w.state,
                color_scheme=rx.match(
                    w.state, ("busy", "blue"), ("idle", "green"), ("dead", "red"), "gray"
                ),
                variant="soft",
            )
        ),
        rx.table.cell(
            rx.cond(w.current_href != "", rx.link(w.current, href=w.current_href), w.current)
        ),
        rx.table.cell(relative_time(w.since)),
        rx.table.cell(
            rx.text(
                w.heartbeat,
                color=rx.cond(w.heartbeat_late, "var(--amber-11)", "inherit"),
                aria_label="Heartbeat " + w.heartbeat,
            )
        ),
        rx.table.cell(w.queues),
        aria_label="Worker " + w.name,
    )


def _workers_table() -> rx.Component:
    return rx.cond(
        WorkersState.workers.length() > 0,
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            _th(h)
                            for h in (
                                "Worker",
                                "Host",
                                "PID",
                                "State",
                                "Current step",
                                "Since",
                                "Heartbeat",
                                "Queues",
                            )
                        ]
                    )
                ),
                rx.table.body(rx.foreach(WorkersState.workers, _worker)),
                size="1",
                width="100%",
                aria_label="Workers",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.callout(
            "No worker is registered on queue " + WorkersState.queue + ": run `jobmonitor worker`.",
            icon="triangle-alert",
            color_scheme="red",
        ),
    )


def _queue(q: rx.Var[QueueRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(q.name),
        rx.table.cell(q.depth.to_string(), aria_label="Depth of " + q.name),
        rx.table.cell(q.workers),
        aria_label="Queue " + q.name,
    )


def _queues_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(_th("Queue"), _th("Waiting attempts"), _th("Workers"))),
        rx.table.body(rx.foreach(WorkersState.queues, _queue)),
        size="1",
        width="100%",
        aria_label="Queues",
    )


def _recovered(a: rx.Var[RecoveredRow]) -> rx.Component:
    return rx.el.li(rx.link(a.label, href=a.href, size="1"))


def _reaper(r: rx.Var[RecoveryRow]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(r.reaper, weight="medium", size="2", class_name="jm-mono"),
                rx.cond(r.silent, rx.badge("no recent pass", color_scheme="amber")),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.hstack(
                rx.text("Last pass ", relative_time(r.last_pass), size="1", color_scheme="gray"),
                rx.text(
                    "· " + r.recovered_total.to_string() + " item(s) recovered in all",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                wrap="wrap",
            ),
            rx.cond(
                r.last_recovery != "",
                rx.vstack(
                    rx.hstack(
                        rx.text(
                            "Last recovery ",
                            timestamp(r.last_recovery),
                            ": " + r.counts,
                            size="1",
                        ),
                        spacing="1",
                        wrap="wrap",
                    ),
                    rx.el.ul(rx.foreach(r.attempts, _recovered), class_name="jm-plain-list"),
                    spacing="1",
                ),
                rx.text("Nothing recovered yet.", size="1", color_scheme="gray"),
            ),
            spacing="1",
            width="100%",
        ),
        width="100%",
        role="group",
        aria_label="Reaper " + r.reaper,
    )


def _loaded() -> rx.Component:
    return rx.vstack(
        rx.callout(
            rx.text("A job pending now would wait: ", rx.text.strong(WorkersState.reason)),
            icon="info",
            color_scheme="gray",
            role="status",
            aria_label="Why a pending job waits",
            width="100%",
        ),
        card_section("Workers", _workers_table()),
        card_section("Queues", _queues_table()),
        card_section(
            "Reaper recoveries",
            rx.cond(
                WorkersState.reapers.length() > 0,
                rx.grid(
                    rx.foreach(WorkersState.reapers, _reaper),
                    columns="repeat(auto-fill, minmax(320px, 1fr))",
                    spacing="3",
                    width="100%",
                ),
                rx.text(
                    "No reaper pass recorded: run `jobmonitor reaper`.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
        ),
        rx.moment(interval=REFRESH_MS, on_change=WorkersState.refresh, display="none"),
        spacing="4",
        width="100%",
    )


def workers_page() -> rx.Component:
    return page(
        rx.hstack(
            rx.heading("Workers and queues", as_="h1", size="6"),
            rx.spacer(),
            rx.badge(
                rx.icon("refresh-cw", size=12),
                f"Refreshed every {REFRESH_MS // 1000} s",
                color_scheme="gray",
                variant="surface",
            ),
            width="100%",
            align="center",
        ),
        rx.match(
            WorkersState.load_error,
            (
                "",
                rx.cond(
                    WorkersState.loading,
                    error_state("Loading workers…", "", icon="loader-circle"),
                    _loaded(),
                ),
            ),
            (
                "forbidden",
                error_state(
                    "Access denied", "Your token may not read the workers.", icon="shield-alert"
                ),
            ),
            error_state(
                "Could not load the workers",
                WorkersState.load_message,
                rx.button("Retry", on_click=WorkersState.load),
                icon="wifi-off",
            ),
        ),
    )
