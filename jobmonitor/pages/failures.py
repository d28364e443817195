"""FailuresView (`/failures`): the failure inbox. Failed runs grouped by workflow, step, error
type and normalised message, with its count, first and last seen and a 7-day trend; a
group can be acknowledged, resolved, reopened, assigned and noted, and its failed runs
re-run in bulk after a fix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import reflex as rx

from apiclient import models as t
from apiclient.errors import ApiError, Unauthorized
from jobmonitor.components.guard import guarded_button
from jobmonitor.format import iso, short_id
from jobmonitor.navstate import NavState
from jobmonitor.pages.shell import error_state, page
from jobmonitor.state import (
    AccessState,
    action_error_toast,
    client_of,
    requires_sign_in,
    signin_redirect,
)

TABS = (
    ("open", "Open"),
    ("acknowledged", "Acknowledged"),
    ("resolved", "Resolved"),
    ("all", "All"),
)
SPARK = "▁▂▃▄▅▆▇█"


@dataclass
class GroupRow:
    fingerprint: str = ""
    status: str = ""
    workflow: str = ""
    step: str = ""
    error: str = ""
    count: int = 0
    first_seen: str = ""
    last_seen: str = ""
    trend: str = ""
    assignee: str = ""
    note: str = ""


@dataclass
class RunRow:
    job_id: str = ""
    short: str = ""
    status: str = ""
    failed_at: str = ""
    rerun_id: str = ""


def sparkline(counts: list[int]) -> str:
    """Failures per day as bars (the 7-day trend)."""
    top = max(counts, default=0)
    if top == 0:
        return SPARK[0] * len(counts)
    return "".join(SPARK[round(n / top * (len(SPARK) - 1))] for n in counts)


def group_row(g: t.FailureGroup) -> GroupRow:
    return GroupRow(
        fingerprint=g.fingerprint,
        status="reopened" if g.reopened else g.status,
        workflow=g.workflow_name,
        step=g.step_key,
        error=f"{g.error_type}: {g.message}" if g.error_type else g.message,
        count=g.count,
        first_seen=_when(g.first_seen),
        last_seen=_when(g.last_seen),
        trend=sparkline(g.trend),
        assignee=g.assignee or "",
        note=g.note or "",
    )


def _when(value: datetime | None) -> str:
    return iso(value)[:19].replace("T", " ") if value else ""


class FailuresState(rx.State):
    tab: str = "open"
    groups: list[GroupRow] = []
    selected: str = ""
    runs: list[RunRow] = []
    assignee: str = ""
    note: str = ""
    error: str = ""
    loading: bool = True

    @rx.var
    def current(self) -> GroupRow:
        return next((g for g in self.groups if g.fingerprint == self.selected), GroupRow())

    @rx.event
    @requires_sign_in
    async def load(self) -> AsyncIterator[Any]:
        self.loading, self.error = True, ""
        yield
        yield await self._reload()

    async def _reload(self) -> Any:
        try:
            result = await (await client_of(self)).failures(None if self.tab == "all" else self.tab)
        except Unauthorized:
            return signin_redirect(self.router.url.path)
        except ApiError as exc:
            self.loading, self.error = False, exc.message
            return None
        self.groups = [group_row(g) for g in result.items]
        self.loading = False
        if self.selected and all(g.fingerprint != self.selected for g in self.groups):
            self.selected, self.runs = "", []
        return NavState.load

    @rx.event
    async def set_tab(self, tab: str) -> AsyncIterator[Any]:
        self.tab = tab
        yield await self._reload()

    @rx.event
    async def select(self, fingerprint: str) -> AsyncIterator[Any]:
        self.selected = fingerprint
        try:
            detail = await (await client_of(self)).failure(fingerprint)
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        self.assignee, self.note = detail.assignee or "", detail.note or ""
        self.runs = [
            RunRow(
                o.job_id, short_id(o.job_id), o.job_status, _when(o.failed_at), o.rerun_job_id or ""
            )
            for o in detail.occurrences
        ]

    @rx.event
    def set_assignee(self, value: str) -> None:
        self.assignee = value

    @rx.event
    def set_note(self, value: str) -> None:
        self.note = value

    @rx.event
    async def update(self, field: str) -> AsyncIterator[Any]:
        """`field`: a state (acknowledged, resolved, open), or "assignee" / "note"."""
        if field == "assignee":
            changes: dict[str, Any] = {"assignee": self.assignee.strip() or None}
        elif field == "note":
            changes = {"note": self.note.strip() or None}
        else:
            changes = {"state": field}
        try:
            await (await client_of(self)).update_failure(self.selected, changes)
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        yield rx.toast.success("Saved")
        yield await self._reload()

    @rx.event
    async def rerun_all(self) -> AsyncIterator[Any]:
        try:
            result = await (await client_of(self)).rerun_failures(self.selected)
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        refused = f", {result.failed} refused" if result.failed else ""
        yield rx.toast.success(f"Re-ran {result.succeeded} failed run(s){refused}")
        fingerprint = self.selected
        yield await self._reload()
        yield FailuresState.select(fingerprint)


# view


def _group(g: rx.Var[GroupRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.badge(g.status, color_scheme=rx.cond(g.status == "resolved", "green", "red"))
        ),
        rx.table.cell(g.workflow),
        rx.table.cell(rx.code(g.step)),
        rx.table.cell(rx.text(g.error, class_name="jm-pre")),
        rx.table.cell(g.count.to_string()),
        rx.table.cell(g.last_seen),
        rx.table.cell(rx.text(g.trend, aria_label="Trend over 7 days")),
        rx.table.cell(g.assignee),
        rx.table.cell(
            rx.button(
                "Open", size="1", variant="soft", on_click=FailuresState.select(g.fingerprint)
            )
        ),
        custom_attrs={"data-fingerprint": g.fingerprint, "data-status": g.status},
    )


def _table() -> rx.Component:
    heads = (
        "Status",
        "Workflow",
        "Step",
        "Error",
        "Failures",
        "Last seen",
        "7 days",
        "Assignee",
        "",
    )
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(FailuresState.groups, _group)),
        variant="surface",
        width="100%",
        aria_label="Failure groups",
    )


def _run(r: rx.Var[RunRow]) -> rx.Component:
    return rx.hstack(
        rx.link(rx.code(r.short), href="/jobs/" + r.job_id),
        rx.text(r.status, size="2"),
        rx.text(r.failed_at, size="2", color_scheme="gray"),
        rx.cond(r.rerun_id != "", rx.link("re-run", href="/jobs/" + r.rerun_id, size="2")),
        spacing="3",
    )


def _detail() -> rx.Component:
    g = FailuresState.current
    return rx.cond(
        FailuresState.selected != "",
        rx.card(
            rx.vstack(
                rx.heading(g.workflow + " / " + g.step, as_="h2", size="4"),
                rx.text(g.error, class_name="jm-pre"),
                rx.text(
                    g.count.to_string()
                    + " failed run(s); first "
                    + g.first_seen
                    + ", last "
                    + g.last_seen,
                    size="2",
                ),
                rx.hstack(
                    guarded_button(
                        "Acknowledge",
                        on_click=FailuresState.update("acknowledged"),
                        allowed=AccessState.can_operate,
                        reason=AccessState.operate_denied,
                    ),
                    guarded_button(
                        "Resolve",
                        color_scheme="green",
                        on_click=FailuresState.update("resolved"),
                        allowed=AccessState.can_operate,
                        reason=AccessState.operate_denied,
                    ),
                    guarded_button(
                        "Reopen",
                        variant="soft",
                        on_click=FailuresState.update("open"),
                        allowed=AccessState.can_operate,
                        reason=AccessState.operate_denied,
                    ),
                    guarded_button(
                        "Re-run all " + FailuresState.runs.length().to_string(),
                        color_scheme="orange",
                        on_click=FailuresState.rerun_all,
                        allowed=AccessState.can_operate,
                        reason=AccessState.operate_denied,
                    ),
                    wrap="wrap",
                    spacing="2",
                ),
                rx.hstack(
                    rx.input(
                        value=FailuresState.assignee,
                        on_change=FailuresState.set_assignee,
                        placeholder="a token name",
                        aria_label="Assignee",
                    ),
                    guarded_button(
                        "Assign",
                        variant="soft",
                        on_click=FailuresState.update("assignee"),
                        allowed=AccessState.can_operate,
                        reason=AccessState.operate_denied,
                    ),
                ),
                rx.text_area(
                    value=FailuresState.note,
                    on_change=FailuresState.set_note,
                    aria_label="Note",
                    width="100%",
                ),
                guarded_button(
                    "Save note",
                    variant="soft",
                    on_click=FailuresState.update("note"),
                    allowed=AccessState.can_operate,
                    reason=AccessState.operate_denied,
                ),
                rx.heading("Failed runs", as_="h3", size="3"),
                rx.foreach(FailuresState.runs, _run),
                spacing="3",
                width="100%",
            ),
            width="100%",
        ),
    )


def failures_page() -> rx.Component:
    return page(
        rx.heading("Failures", as_="h1", size="6"),
        rx.tabs.root(
            rx.tabs.list(*[rx.tabs.trigger(label, value=key) for key, label in TABS]),
            value=FailuresState.tab,
            on_change=FailuresState.set_tab,
        ),
        rx.cond(
            FailuresState.error != "",
            error_state("Could not load failures", FailuresState.error, icon="wifi-off"),
            rx.cond(
                FailuresState.groups.length() == 0,
                rx.text(
                    rx.cond(FailuresState.loading, "Loading…", "No failure groups here."),
                    color_scheme="gray",
                ),
                _table(),
            ),
        ),
        rx.el.section(_detail(), aria_label="Failure group"),
    )
