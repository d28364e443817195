"""The job page's Gantt and Event history tabs (`/jobs/[job_id]?tab=gantt|events`): their
state, fed live by the job's event stream while a tab is open (polling when the stream is
down), and the tabs that hold the page's step panels beside them."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import reflex as rx

from apiclient import models as t
from apiclient.client import ApiClient
from apiclient.errors import ApiError, Unauthorized
from jobmonitor.components.event_history import event_history
from jobmonitor.components.gantt_chart import gantt_chart
from jobmonitor.components.status_badge import status_badge
from jobmonitor.format import short_id
from jobmonitor.history_rows import (
    EventRow,
    GanttView,
    StepOption,
    event_row,
    gantt_view,
    step_options,
)
from jobmonitor.live import DETAIL_POLL_SECONDS, LiveFeed, follow
from jobmonitor.state import assign, client_of, error_kind
from jobmonitor.viewmodels import is_terminal

STEPS, GANTT, EVENTS = "steps", "gantt", "events"
TABS = (STEPS, GANTT, EVENTS)
ALL_STEPS = "all"  # the step filter's "every step" value (a select item cannot be "")
MAX_EVENTS = 5000  # the history keeps this many; a longer one says so
PAGE = 500
GANTT_RUNNING_SECONDS = 1.0  # a running attempt's segment grows this often
IDLE_REFRESH_SECONDS = 5.0  # otherwise, with the stream up, a refresh at least this often
EVENTS_REFRESH_GAP_SECONDS = 0.2  # events arrive in bursts: read them once per burst


class HistoryState(rx.State):
    tab: str = STEPS
    events: list[EventRow] = []
    events_loaded: bool = False
    truncated: bool = False
    step_filter: str = ALL_STEPS
    steps: list[StepOption] = []
    gantt: GanttView = GanttView()
    zoom: bool = False
    error: str = ""
    live: bool = False
    job_label: str = ""  # "Job 26a827c4 · basic_sequence #3": the tabs' own header
    job_status: str = ""
    _job_id: str = ""
    _cursor: str | None = None
    _origin: datetime | None = None  # the job's creation: events show their offset from it
    _attempts: t.JobAttempts | None = None
    _watcher: str = ""

    def _route_job(self) -> str:
        return str(self.router.url.path).rstrip("/").rpartition("/")[2]

    @rx.event
    async def load(self) -> AsyncIterator[Any]:
        """on_load: a new job starts on the tab the URL names (`?tab=`), with nothing loaded."""
        job_id = self._route_job()
        tab = str(self.router.url.query_parameters.get("tab", STEPS))
        if job_id != self._job_id:
            self._reset(job_id)
        self.tab = tab if tab in TABS else STEPS
        if self.tab != STEPS:
            yield HistoryState.open_tab

    def _reset(self, job_id: str) -> None:
        self._job_id, self._cursor, self._origin, self._attempts = job_id, None, None, None
        self.events, self.events_loaded, self.truncated, self.error = [], False, False, ""
        self.steps, self.gantt, self.step_filter, self.zoom = [], GanttView(), ALL_STEPS, False
        self.job_label, self.job_status = "", ""
        self._watcher = ""

    @rx.event
    async def set_tab(self, tab: str) -> AsyncIterator[Any]:
        self.tab = tab if tab in TABS else STEPS
        query = "" if self.tab == STEPS else f"?tab={self.tab}"
        yield rx.call_script(
            f"window.history.replaceState(window.history.state, '', window.location.pathname + {query!r})"
        )
        if self.tab != STEPS:
            yield HistoryState.open_tab

    @rx.event
    async def set_step_filter(self, key: str) -> AsyncIterator[Any]:
        """Show one step's events (or every step's): read the history again with the filter."""
        self.step_filter = key or ALL_STEPS
        self.events, self._cursor, self.events_loaded, self.truncated = [], None, False, False
        yield
        await self._fetch(await client_of(self), self._job_id)

    @rx.event
    async def toggle_zoom(self) -> None:
        """Zoom in or out, on fresh data (the running part keeps growing)."""
        self.zoom = not self.zoom
        with contextlib.suppress(ApiError):  # keep the last data: the next refresh retries
            self._attempts = await (await client_of(self)).job_attempts(self._job_id)
        if self._attempts is not None:
            self.gantt = gantt_view(self._attempts, self.zoom)

    @rx.event
    async def open_tab(self) -> AsyncIterator[Any]:
        """Fetch what the tab shows, then follow the job while it can change."""
        job_id = self._job_id or self._route_job()
        self._job_id = job_id
        client = await client_of(self)
        try:
            running = await self._fetch(client, job_id)
        except ApiError as exc:
            self.error = error_kind(exc)
            return
        if running and not self._watcher:
            yield HistoryState.watch

    async def _fetch(self, client: ApiClient, job_id: str) -> bool:
        """The new events (after the cursor) and every attempt; whether the job still runs."""
        job, attempts = await asyncio.gather(client.get_job(job_id), client.job_attempts(job_id))
        new = await self._read_events(client, job_id)
        self._show(job_id, job, attempts, new)
        return not is_terminal(job.status)

    async def _read_events(self, client: ApiClient, job_id: str) -> list[t.HistoryEvent]:
        return await read_events(
            client, job_id, self.step_filter, self._cursor, MAX_EVENTS - len(self.events)
        )

    def _show(
        self, job_id: str, job: t.Job, attempts: t.JobAttempts, new: list[t.HistoryEvent]
    ) -> None:
        if job_id != self._job_id:
            return
        self._origin = job.created_at
        number = f" #{job.execution_number}" if job.execution_number else ""
        assign(self, "job_label", f"Job {short_id(job.id)} · {job.workflow_name}{number}")
        assign(self, "job_status", job.status)
        if new:
            self.events = self.events + [event_row(e, self._origin) for e in new]
            self._cursor = str(new[-1].id)
        self.truncated = len(self.events) >= MAX_EVENTS
        self.events_loaded, self.error = True, ""
        self._attempts = attempts
        assign(self, "steps", step_options(attempts.steps))
        assign(self, "gantt", gantt_view(attempts, self.zoom))

    @rx.event(background=True)
    async def watch(self) -> AsyncIterator[Any]:
        """Follow the job while a history tab is open (see jobmonitor.live): the stream says
        when something happened, the routes say what."""
        async with self:
            me = self._watcher = uuid.uuid4().hex
            job_id, client = self._job_id, await client_of(self)
        pace: dict[str, float | None] = {"interval": self._pace()}
        async with LiveFeed(client, job_id=job_id) as feed:
            async for _ in follow(
                feed,
                apply=lambda batch: self._still(me, job_id, batch.live, pace),
                refresh=lambda: self._refresh(me, client, job_id, pace),
                poll_interval=lambda: DETAIL_POLL_SECONDS,
                live_interval=lambda: pace["interval"],
                refresh_gap=EVENTS_REFRESH_GAP_SECONDS,
            ):
                pass
        async with self:
            if self._watcher == me:
                self._watcher = ""

    def _pace(self) -> float:
        """How often to refresh with the stream up (read under the state's lock): a running
        attempt's segment grows with no event to say so; otherwise a slow beat, so a tab
        switched to meanwhile is not left waiting for the next event."""
        running = any(r.status == "running" for r in self.gantt.rows)
        return GANTT_RUNNING_SECONDS if self.tab == GANTT and running else IDLE_REFRESH_SECONDS

    def _watching(self, me: str, job_id: str) -> bool:
        return self._watcher == me and self._route_job() == job_id and self.tab != STEPS

    async def _still(self, me: str, job_id: str, live: bool, pace: dict[str, float | None]) -> bool:
        async with self:
            if not self._watching(me, job_id):
                if self._watcher == me:
                    self._watcher = ""
                return False
            self.live, pace["interval"] = live, self._pace()
            return True

    async def _refresh(
        self, me: str, client: ApiClient, job_id: str, pace: dict[str, float | None]
    ) -> bool:
        """False once the job is finished (its history is complete) or the tab was left."""
        async with self:
            if not self._watching(me, job_id):
                return False
            step, cursor = self.step_filter, self._cursor
            room = MAX_EVENTS - len(self.events)
        try:
            job, attempts = await asyncio.gather(
                client.get_job(job_id), client.job_attempts(job_id)
            )
            new = await read_events(client, job_id, step, cursor, room)
        except Unauthorized:
            return False
        except ApiError:
            return True
        async with self:
            if not self._watching(me, job_id):
                return False
            if (self.step_filter, self._cursor) == (step, cursor):  # not overtaken by a filter
                self._show(job_id, job, attempts, new)
            pace["interval"] = self._pace()
            return not is_terminal(job.status)


async def read_events(
    client: ApiClient, job_id: str, step: str, cursor: str | None, room: int
) -> list[t.HistoryEvent]:
    """The events after `cursor` (one step's, or every step's with ALL_STEPS), at most `room`."""
    out: list[t.HistoryEvent] = []
    while len(out) < room:
        page = await client.job_events(
            job_id, step=None if step == ALL_STEPS else step, cursor=cursor, limit=PAGE
        )
        out += page.items
        cursor = page.next_cursor or cursor
        if not page.has_more:
            break
    return out[: max(room, 0)]


# view


def _tab_trigger(value: str, label: str, icon: str) -> rx.Component:
    return rx.tabs.trigger(
        rx.hstack(rx.icon(icon, size=14), label, spacing="2", align="center"), value=value
    )


def _header() -> rx.Component:
    """Which job this is, on the tabs that do not show the job info panel."""
    return rx.cond(
        HistoryState.job_label != "",
        rx.hstack(
            rx.text(HistoryState.job_label, size="3", weight="medium"),
            status_badge(HistoryState.job_status),
            spacing="3",
            align="center",
            margin_bottom="12px",
        ),
    )


def job_tabs(steps_view: rx.Component) -> rx.Component:
    """The job page's tabs: its step panels (`steps_view`), the Gantt and the event history."""
    s = HistoryState
    return rx.tabs.root(
        rx.tabs.list(
            _tab_trigger(STEPS, "Steps", "list-tree"),
            _tab_trigger(GANTT, "Gantt", "chart-gantt"),
            _tab_trigger(EVENTS, "Event history", "history"),
            size="2",
        ),
        rx.tabs.content(steps_view, value=STEPS, padding_top="12px"),
        rx.tabs.content(
            _header(),
            gantt_chart(s.gantt, s.zoom, s.toggle_zoom, s.events_loaded),
            value=GANTT,
            padding_top="12px",
        ),
        rx.tabs.content(
            _header(),
            event_history(
                s.events,
                s.steps,
                s.step_filter,
                s.set_step_filter,
                s.events_loaded,
                s.truncated,
                s.error,
            ),
            value=EVENTS,
            padding_top="12px",
        ),
        value=s.tab,
        on_change=s.set_tab,
        width="100%",
    )
