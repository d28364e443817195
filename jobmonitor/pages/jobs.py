"""JobListView (`/jobs` and `/`): filter tabs with counts, search, pagination, the job table
with row and bulk actions, kept live by the event stream (polling when it is down)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import reflex as rx

from apiclient.client import ApiClient
from apiclient.errors import ApiError, Unauthorized
from jobmonitor import routes
from jobmonitor.components.compare_link import compare_selected
from jobmonitor.components.copy import copy_button
from jobmonitor.components.job_action import action_label
from jobmonitor.components.search_help import search_help
from jobmonitor.components.status_badge import status_badge, waiting_chip
from jobmonitor.components.time import relative_time
from jobmonitor.create_job import CreateJobState, create_job_dialog
from jobmonitor.live import LIST_POLL_SECONDS, OVERTAKEN_TRIES, Batch, Generation, LiveFeed, follow
from jobmonitor.pages.shell import error_state, live_chip, page
from jobmonitor.saved_views import save_view_button, save_view_dialog
from jobmonitor.state import (
    action_error_toast,
    assign,
    client_of,
    requires_sign_in,
    signin_redirect,
)
from jobmonitor.statuses import JOB_ACTIVE, TABS, WAITING_TAB, JobAction, tab_counts
from jobmonitor.viewmodels import JobRow, apply_to_rows, bulk_summary, job_row, keep_positions

PAGE_SIZES = ("10", "25", "50", "100")
IDLE_POLL_SECONDS = 10.0  # polling with nothing running still notices jobs started elsewhere
LIVE_ROW_REFRESH_SECONDS = 5.0


class Query(NamedTuple):
    status: str | None
    q: str | None
    skip: int
    limit: int


class JobsState(rx.State):
    rows: list[JobRow] = []
    counts: dict[str, int] = {}
    total: int = 0
    tab: str = "all"
    search: str = ""
    page: int = 0
    page_size: int = 25
    selected: list[str] = []
    loading: bool = True
    error: str = ""
    live: bool = False
    confirm_action: str = ""  # the bulk JobAction (cancel or delete) while the dialog is open
    summary: str = ""  # what the last bulk action did
    pointer_in: bool = False  # over the table: live refreshes keep the rows where they are
    held: int = 0  # new jobs not shown yet because the pointer is over the table
    _watcher: str = ""
    _generation: Generation = Generation()  # every reload for the user starts a new one

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

    def _query(self) -> Query:
        """What the table asks the API for (the watcher reads it under the state lock)."""
        status = None if self.tab in ("all", WAITING_TAB) else self.tab
        return Query(
            status, self.search.strip() or None, self.page * self.page_size, self.page_size
        )

    async def _fetch(
        self, client: ApiClient, query: Query
    ) -> tuple[list[JobRow], int, dict[str, int]]:
        page, counts = await asyncio.gather(
            client.list_jobs(
                status=query.status,
                search=query.q,
                skip=query.skip,
                limit=query.limit,
                waiting=self.tab == WAITING_TAB,
            ),
            client.job_counts(),
        )
        return [job_row(j) for j in page.items], page.total, tab_counts(counts)

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

    async def _reload(self) -> rx.event.EventSpec | None:
        """Fetch the current page (holding the state: for user actions). A new query or an
        action's result: the watcher's fetch in flight, if any, is out of date."""
        self._generation = self._generation.next()
        try:
            self._show(await self._fetch(await client_of(self), self._query()))
        except Unauthorized:
            return signin_redirect(self.router.url.path)
        except ApiError as exc:
            self.loading, self.error = False, exc.message
        return None

    @rx.event
    @requires_sign_in
    async def load(self) -> AsyncIterator[Any]:
        """on_load: first page, then the live watcher."""
        status = self.router.url.query_parameters.get("status", "all")
        self.tab = status if status in {key for key, _ in self._tabs()} else "all"
        self.search = str(self.router.url.query_parameters.get("q", self.search))
        self.loading, self.summary = True, ""
        yield
        redirect = await self._reload()
        if redirect:
            yield redirect
            return
        yield JobsState.watch

    @staticmethod
    def _tabs() -> list[tuple[str, str]]:
        return [(key or "all", label) for key, label in TABS]

    @rx.event
    async def refresh(self) -> AsyncIterator[Any]:
        self.loading = True
        yield
        yield await self._reload()

    @rx.event
    async def set_tab(self, tab: str) -> AsyncIterator[Any]:
        self.tab, self.page, self.selected = tab, 0, []
        yield await self._reload()

    @rx.event
    async def set_search(self, text: str) -> AsyncIterator[Any]:
        self.search, self.page, self.selected = text, 0, []
        yield await self._reload()

    @rx.event
    async def set_page_size(self, size: str) -> AsyncIterator[Any]:
        self.page_size, self.page = int(size), 0
        yield await self._reload()

    @rx.event
    async def go_page(self, delta: int) -> AsyncIterator[Any]:
        self.page = max(self.page + delta, 0)
        yield await self._reload()

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
        """A row's actions menu: `command` is a JobAction's value."""
        action = JobAction(command)
        if action is JobAction.VIEW:
            yield rx.redirect(routes.job(job_id))
            return
        client = await client_of(self)
        try:
            if action is JobAction.CANCEL:
                await client.cancel_job(job_id)
            elif action is JobAction.RESUME:
                await client.resume_job(job_id)
            elif action is JobAction.RERUN:
                job = await client.rerun_job(job_id)
                yield rx.redirect(routes.job(job.id))
                return
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        done = "Cancelled" if action is JobAction.CANCEL else "Resumed"
        yield rx.toast.success(f"{done} job {job_id[:8]}")
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
                ticket, query = self._generation, self._query()
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


# view


def _tab(key: str, label: str) -> rx.Component:
    count = JobsState.counts[key if key != "all" else ""].to(int)
    return rx.tabs.trigger(
        rx.hstack(
            rx.text(label),
            rx.badge(count, variant="soft", color_scheme="gray", radius="full"),
            spacing="2",
            align="center",
        ),
        value=key,
        aria_label=f"{label} " + count.to_string(),
    )


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.tabs.root(
            rx.tabs.list(*[_tab(key or "all", label) for key, label in TABS]),
            value=JobsState.tab,
            on_change=JobsState.set_tab,
        ),
        rx.spacer(),
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search: workflow, job ID, input.mode=fast, error~timeout…",
            aria_label="Search jobs",
            value=JobsState.search,
            on_change=JobsState.set_search,
            width="360px",
        ),
        search_help(),
        save_view_button(JobsState.search),
        width="100%",
        align="center",
        wrap="wrap",
        spacing="3",
    )


def _actions_menu(row: rx.Var[JobRow]) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis", size=16),
                variant="ghost",
                size="1",
                aria_label="Actions for job " + row.short_id,
            )
        ),
        rx.menu.content(
            rx.foreach(
                row.actions,
                lambda a: rx.menu.item(action_label(a), on_click=JobsState.row_action(row.id, a)),
            )
        ),
    )


def _row(row: rx.Var[JobRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=JobsState.selected.contains(row.id),
                on_change=lambda checked: JobsState.toggle(row.id, checked),
                aria_label="Select job " + row.short_id,
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.link(
                    rx.code(row.short_id, variant="ghost"),
                    href="/jobs/" + row.id,
                    aria_label="Job " + row.short_id,
                ),
                copy_button(row.id, "Copy job ID"),
                spacing="1",
                align="center",
            )
        ),
        rx.table.cell(rx.link(row.workflow_name, href="/workflows/" + row.workflow_id)),
        rx.table.cell(rx.hstack(status_badge(row.status), waiting_chip(row.waiting), wrap="wrap")),
        rx.table.cell(relative_time(row.started_at)),
        rx.table.cell(row.duration),
        rx.table.cell(row.progress),
        rx.table.cell(_actions_menu(row)),
        custom_attrs={"data-job-id": row.id, "data-status": row.status},
        align="center",
        key=row.id,  # not the index: a new row must not re-render the others' contents
    )


def _header() -> rx.Component:
    return rx.table.header(
        rx.table.row(
            rx.table.column_header_cell(
                rx.checkbox(
                    checked=JobsState.all_selected,
                    on_change=JobsState.toggle_all,
                    aria_label="Select all jobs on this page",
                ),
                width="36px",
            ),
            *[
                rx.table.column_header_cell(h)
                for h in ("Job ID", "Workflow", "Status", "Started", "Duration", "Progress")
            ],
            rx.table.column_header_cell(rx.text("Actions", class_name="jm-sr-only"), width="48px"),
        )
    )


def _table() -> rx.Component:
    table = rx.table.root(
        _header(),
        rx.table.body(rx.foreach(JobsState.rows, _row)),
        width="100%",
        variant="surface",
        on_mouse_enter=JobsState.pointer(True),
        on_mouse_leave=JobsState.pointer(False),
    )
    held = rx.text(  # below the table: a notice above it would move the rows too
        JobsState.held.to_string(),
        " new job(s): shown when the pointer leaves the table",
        size="1",
        color_scheme="gray",
        role="status",
    )
    return rx.fragment(table, rx.cond(JobsState.held > 0, held))


def _pagination() -> rx.Component:
    return rx.hstack(
        rx.el.label("Rows per page", html_for="page-size", class_name="jm-label"),
        rx.el.select(
            *[rx.el.option(n, value=n) for n in PAGE_SIZES],
            id="page-size",
            value=JobsState.page_size.to_string(),
            on_change=JobsState.set_page_size,
            class_name="jm-native-select",
        ),
        rx.text(JobsState.range_label, size="2", role="status", aria_label="Jobs shown"),
        rx.icon_button(
            rx.icon("chevron-left"),
            variant="soft",
            size="1",
            aria_label="Previous page",
            disabled=JobsState.page == 0,
            on_click=JobsState.go_page(-1),
        ),
        rx.icon_button(
            rx.icon("chevron-right"),
            variant="soft",
            size="1",
            aria_label="Next page",
            disabled=~JobsState.has_next,
            on_click=JobsState.go_page(1),
        ),
        justify="end",
        align="center",
        spacing="3",
        width="100%",
    )


def _bulk_bar() -> rx.Component:
    return rx.cond(
        JobsState.selected.length() > 0,
        rx.hstack(
            rx.text(JobsState.selected.length().to_string() + " selected", size="2"),
            rx.button(
                "Cancel selected",
                size="1",
                variant="soft",
                color_scheme="orange",
                on_click=JobsState.ask_bulk(JobAction.CANCEL),
            ),
            rx.button(
                "Delete selected",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=JobsState.ask_bulk(JobAction.DELETE),
            ),
            compare_selected(JobsState.selected),
            align="center",
            spacing="3",
        ),
    )


def _confirm_dialog() -> rx.Component:
    deleting = JobsState.confirm_action == JobAction.DELETE.value
    verb = rx.cond(deleting, JobAction.DELETE.label, JobAction.CANCEL.label)
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                verb + " " + JobsState.selected.length().to_string() + " selected jobs?"
            ),
            rx.alert_dialog.description(
                rx.cond(
                    deleting,
                    "Deleting removes the jobs with their steps, attempts and logs. Only finished jobs can be deleted.",
                    "Running steps are stopped. Only pending or running jobs can be cancelled.",
                ),
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep them", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        "Yes, " + verb.lower(), color_scheme="red", on_click=JobsState.run_bulk
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=JobsState.confirm_action != "",
        on_open_change=JobsState.set_confirm_open,
    )


def _summary() -> rx.Component:
    return rx.cond(
        JobsState.summary != "",
        rx.callout.root(
            rx.hstack(
                rx.callout.text(JobsState.summary),
                rx.icon_button(
                    rx.icon("x", size=14),
                    variant="ghost",
                    size="1",
                    aria_label="Dismiss",
                    on_click=JobsState.dismiss_summary,
                ),
                justify="between",
                width="100%",
            ),
            role="status",
            aria_label="Bulk action result",
            width="100%",
        ),
    )


def _body() -> rx.Component:
    return rx.cond(
        JobsState.error != "",
        error_state(
            "Could not load jobs",
            JobsState.error,
            rx.button("Retry", on_click=JobsState.refresh),
            icon="wifi-off",
        ),
        rx.cond(
            JobsState.loading & (JobsState.rows.length() == 0),
            error_state("Loading jobs…", "", icon="loader-circle"),
            rx.cond(
                JobsState.rows.length() == 0,
                rx.center(
                    rx.vstack(
                        rx.text(
                            rx.cond(
                                (JobsState.search != "") | (JobsState.tab != "all"),
                                "No jobs match.",
                                "No jobs yet.",
                            ),
                            size="3",
                        ),
                        rx.button(
                            rx.icon("plus", size=14),
                            "Start a job",
                            variant="soft",
                            on_click=CreateJobState.open_dialog(""),
                        ),
                        align="center",
                    ),
                    padding_y="48px",
                    width="100%",
                ),
                rx.vstack(_table(), _pagination(), width="100%", spacing="3"),
            ),
        ),
    )


def jobs_page() -> rx.Component:
    return page(
        rx.hstack(
            rx.heading("Jobs", as_="h1", size="6"),
            live_chip(JobsState.live, LIST_POLL_SECONDS),
            rx.spacer(),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                variant="soft",
                on_click=JobsState.refresh,
                loading=JobsState.loading,
            ),
            rx.button(rx.icon("plus", size=14), "New job", on_click=CreateJobState.open_dialog("")),
            width="100%",
            align="center",
        ),
        _toolbar(),
        _bulk_bar(),
        _summary(),
        _body(),
        _confirm_dialog(),
        create_job_dialog(),
        save_view_dialog(),
    )
