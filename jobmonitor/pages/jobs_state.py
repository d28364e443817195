"""The job list's state: its view (tab, search, page, size, sort, date range), kept in the
URL (`jobmonitor.jobs_filters`) so every change navigates and Back, reload and a shared link
show the same jobs; the rows, kept live by the event stream (polling when it is down); and the
row and bulk actions (a single Cancel asks first)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from apiclient.client import ApiClient
from apiclient.errors import ApiError, Unauthorized
from jobmonitor import routes
from jobmonitor.jobs_filters import (
    API_SORT,
    NEWEST,
    OLDEST,
    ListView,
    valid_day,
)
from jobmonitor.live import LIST_POLL_SECONDS, OVERTAKEN_TRIES, Batch, Generation, LiveFeed, follow
from jobmonitor.state import (
    action_error_toast,
    assign,
    client_of,
    requires_sign_in,
    signin_redirect,
)
from jobmonitor.statuses import JOB_ACTIVE, TABS, WAITING_TAB, JobAction, tab_counts
from jobmonitor.viewmodels import JobRow, apply_to_rows, bulk_summary, job_row, keep_positions

IDLE_POLL_SECONDS = 10.0  # polling with nothing running still notices jobs started elsewhere
LIVE_ROW_REFRESH_SECONDS = 5.0
TAB_KEYS = tuple(key or "all" for key, _ in TABS)
ECHOES_KEPT = 10


class JobsState(rx.State):
    rows: list[JobRow] = []
    counts: dict[str, int] = {}
    total: int = 0
    tab: str = "all"
    search: str = ""
    page: int = 0
    page_size: int = 25
    sort: str = NEWEST
    date_from: str = ""  # YYYY-MM-DD (UTC), "" for no bound
    date_to: str = ""
    selected: list[str] = []
    loading: bool = True
    error: str = ""
    live: bool = False
    confirm_action: str = ""  # the bulk JobAction (cancel or delete) while the dialog is open
    confirm_job: str = ""  # the job a row's Cancel asks about while its dialog is open
    summary: str = ""  # what the last bulk action did
    pointer_in: bool = False  # over the table: live refreshes keep the rows where they are
    held: int = 0  # new jobs not shown yet because the pointer is over the table
    _watcher: str = ""
    _generation: Generation = Generation()  # every reload for the user starts a new one
    _echoes: list[str] = []  # URLs this state navigated to whose on_load has not come yet
    _typing: bool = False  # the last change was the search: the next one replaces its URL

    @rx.var
    def range_label(self) -> str:
        if not self.total:
            return "0 jobs"
        first = self.page * self.page_size + 1
        last = min(first + len(self.rows) - 1, self.total)
        return f"{first}-{last} of {self.total:,}"

    @rx.var
    def has_next(self) -> bool:
        return (self.page + 1) * self.page_size < self.total

    @rx.var
    def all_selected(self) -> bool:
        return bool(self.rows) and all(r.id in self.selected for r in self.rows)

    @rx.var
    def filtered(self) -> bool:
        """Some jobs may exist that this view does not show ("No jobs match", not "No jobs yet")."""
        return self._view().filtered or self.page > 0

    def _view(self) -> ListView:
        """What the table shows (the watcher reads it under the state lock)."""
        return ListView(
            self.tab,
            self.search,
            self.page,
            self.page_size,
            self.sort,
            self.date_from,
            self.date_to,
        )

    def _set_view(self, view: ListView) -> None:
        self.tab, self.search, self.page, self.page_size = view.tab, view.q, view.page, view.size
        self.sort, self.date_from, self.date_to = view.sort, view.start, view.end

    async def _fetch(
        self, client: ApiClient, view: ListView
    ) -> tuple[list[JobRow], int, dict[str, int]]:
        jobs, counts = await asyncio.gather(
            client.list_jobs(
                status=None if view.tab in ("all", WAITING_TAB) else view.tab,
                search=view.q.strip() or None,
                skip=view.page * view.size,
                limit=view.size,
                waiting=view.tab == WAITING_TAB,
                created_after=view.created_after(),
                created_before=view.created_before(),
                sort=API_SORT[view.sort] if view.sort != NEWEST else None,
            ),
            client.job_counts(),
        )
        return [job_row(j) for j in jobs.items], jobs.total, tab_counts(counts)

    def _show(self, result: tuple[list[JobRow], int, dict[str, int]], live: bool = False) -> None:
        rows, total, counts = result
        held = 0
        if live and self.pointer_in and self.rows:
            rows, held = keep_positions(self.rows, rows)
        assign(self, "held", held)
        assign(self, "rows", rows)
        assign(self, "total", total)
        assign(self, "counts", counts)
        ids = {r.id for r in rows}
        assign(self, "selected", [i for i in self.selected if i in ids])
        if self.loading or self.error:
            self.loading, self.error = False, ""

    async def _reload(self) -> EventSpec | None:
        """Fetch the current page (holding the state: for user actions). A new query or an
        action's result: the watcher's fetch in flight, if any, is out of date."""
        self._generation = self._generation.next()
        try:
            self._show(await self._fetch(await client_of(self), self._view()))
        except Unauthorized:
            return signin_redirect(self.router.url.path)
        except ApiError as exc:
            self.loading, self.error = False, exc.message
        return None

    @rx.event
    @requires_sign_in
    async def load(self) -> AsyncIterator[Any]:
        """on_load: the view the URL names, then the live watcher. A navigation this state
        made itself (`_go`) only echoes what it already shows."""
        view = ListView.from_params(self.router.url.query_parameters, TAB_KEYS)
        url = view.url()
        if url in self._echoes:
            self._echoes = self._echoes[self._echoes.index(url) + 1 :]
            return
        self._echoes, self._typing = [], False
        self._set_view(view)
        self.loading, self.summary = True, ""
        yield
        redirect = await self._reload()
        if redirect:
            yield redirect
            return
        yield JobsState.watch

    async def _go(self, view: ListView, typing: bool = False) -> list[EventSpec]:
        """Show `view` and put it in the URL: a new history entry, except while typing a
        search (each keystroke replaces the entry the first one made). No change, no entry: a
        control may report one choice twice (a tab on pointer-down and on focus)."""
        if view == self._view():
            return []
        replace = typing and self._typing
        self._typing = typing
        self._set_view(view)
        redirect = await self._reload()
        if redirect:
            return [redirect]
        url = view.url()
        self._echoes = [*self._echoes[-ECHOES_KEPT:], url]
        return [rx.redirect(url, replace=replace)]

    @rx.event
    async def refresh(self) -> AsyncIterator[Any]:
        self.loading = True
        yield
        yield await self._reload()

    @rx.event
    async def set_tab(self, tab: str) -> list[EventSpec]:
        self.selected = []
        return await self._go(self._view().with_(tab=tab))

    @rx.event
    async def set_search(self, text: str) -> list[EventSpec]:
        self.selected = []
        return await self._go(self._view().with_(q=text), typing=True)

    @rx.event
    async def set_page_size(self, size: str) -> list[EventSpec]:
        return await self._go(self._view().with_(size=int(size)))

    @rx.event
    async def go_page(self, delta: int) -> list[EventSpec]:
        return await self._go(self._view().with_(page=max(self.page + delta, 0)))

    @rx.event
    async def toggle_sort(self) -> list[EventSpec]:
        return await self._go(self._view().with_(sort=OLDEST if self.sort == NEWEST else NEWEST))

    @rx.event
    async def set_date_from(self, day: str) -> list[EventSpec]:
        return await self._go(self._view().with_(start=valid_day(day)))

    @rx.event
    async def set_date_to(self, day: str) -> list[EventSpec]:
        return await self._go(self._view().with_(end=valid_day(day)))

    @rx.event
    async def clear_dates(self) -> list[EventSpec]:
        return await self._go(self._view().with_(start="", end=""))

    @rx.event
    def toggle(self, job_id: str, checked: bool) -> None:
        if checked and job_id not in self.selected:
            self.selected.append(job_id)
        elif not checked and job_id in self.selected:
            self.selected.remove(job_id)

    @rx.event
    def toggle_all(self, checked: bool) -> None:
        self.selected = [r.id for r in self.rows] if checked else []

    @rx.event
    async def row_action(self, job_id: str, command: str) -> AsyncIterator[Any]:
        """A row's actions menu: `command` is a JobAction's value. Cancel asks first."""
        action = JobAction(command)
        if action is JobAction.VIEW:
            yield rx.redirect(routes.job(job_id))
            return
        if action is JobAction.CANCEL:
            self.confirm_job = job_id
            return
        client = await client_of(self)
        try:
            if action is JobAction.RESUME:
                await client.resume_job(job_id)
            elif action is JobAction.RERUN:
                job = await client.rerun_job(job_id)
                yield rx.redirect(routes.job(job.id))
                return
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        yield rx.toast.success(f"Resumed job {job_id[:8]}")
        yield await self._reload()

    @rx.event
    def set_cancel_open(self, value: bool) -> None:
        if not value:
            self.confirm_job = ""

    @rx.event
    async def cancel_confirmed(self) -> AsyncIterator[Any]:
        job_id, self.confirm_job = self.confirm_job, ""
        yield
        try:
            await (await client_of(self)).cancel_job(job_id)
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        yield rx.toast.success(f"Cancelled job {job_id[:8]}")
        yield await self._reload()

    @rx.event
    def ask_bulk(self, command: str) -> None:
        self.confirm_action = JobAction(command)

    @rx.event
    def set_confirm_open(self, value: bool) -> None:
        if not value:
            self.confirm_action = ""

    @rx.event
    def dismiss_summary(self) -> None:
        self.summary = ""

    @rx.event
    async def run_bulk(self) -> AsyncIterator[Any]:
        action, ids = JobAction(self.confirm_action), list(self.selected)
        self.confirm_action = ""
        yield
        try:
            result = await (await client_of(self)).bulk(action, ids)
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        self.summary = bulk_summary(action, result.results)
        self.selected = []
        yield await self._reload()

    @rx.event(background=True)
    async def watch(self) -> None:
        """Apply the event stream to the rows while this page is open (see jobmonitor.live)."""
        async with self:
            me = self._watcher = uuid.uuid4().hex
            client = await client_of(self)
        async with LiveFeed(client) as feed:
            async for _ in follow(
                feed,
                apply=lambda batch: self._apply(me, batch),
                refresh=lambda: self._refresh(me, client),
                poll_interval=self._poll_interval,
                live_interval=self._live_interval,
            ):
                pass

    def _poll_interval(self) -> float:
        return LIST_POLL_SECONDS if self._active() else IDLE_POLL_SECONDS

    def _live_interval(self) -> float | None:
        """Durations and progress of running rows carry no event: refresh them now and then."""
        return LIVE_ROW_REFRESH_SECONDS if any(r.status in JOB_ACTIVE for r in self.rows) else None

    def _active(self) -> bool:
        return any(r.status in JOB_ACTIVE for r in self.rows) or any(
            self.counts.get(s, 0) for s in JOB_ACTIVE
        )

    async def _apply(self, me: str, batch: Batch) -> bool:
        async with self:
            if self._watcher != me or self.router.url.path.rstrip("/") not in ("", routes.JOBS):
                return False
            self.live = batch.live
            for event in batch.events:
                rows = apply_to_rows(self.rows, event)
                if rows is not None:
                    self.rows = rows
        return True

    async def _refresh(self, me: str, client: ApiClient) -> bool:
        """Fetch the current page; a fetch that a search, tab change or action overtook is
        dropped and made again (see `Generation`)."""
        for _ in range(OVERTAKEN_TRIES):
            async with self:
                ticket, query = self._generation, self._view()
            try:
                result = await self._fetch(client, query)
            except Unauthorized:
                return False
            except ApiError:
                return True  # keep the last rows; the next tick tries again
            async with self:
                if self._watcher != me:
                    return False
                if self._generation.current(ticket):
                    self._show(result, live=True)
                    return True
        return True

    @rx.event
    async def pointer(self, inside: bool) -> None:
        """The pointer entered or left the table; leaving shows the jobs held back."""
        self.pointer_in = inside
        if not inside and self.held:
            await self._reload()
