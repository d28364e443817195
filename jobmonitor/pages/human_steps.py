"""The job page's "Waiting for you" panel: an Execute button (and a form generated from the
step's input schema, with the New-job dialog's form code) for each waiting manual step, and
the Review panel of a review gate: its items paged and searchable, checkboxes, Approve /
Reject selected, an inline editor of the editable fields, the counts, Submit review. Its own
small state follows the job's event stream, so another reviewer's decisions show up live."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import reflex as rx

from apiclient.client import ApiClient
from apiclient.errors import ApiError, Unauthorized, ValidationFailed
from jobmonitor import forms
from jobmonitor.live import DETAIL_POLL_SECONDS, Batch, LiveFeed, follow
from jobmonitor.review_view import (
    ReviewInfo,
    ReviewRow,
    WaitingStep,
    editable_text,
    has_gate,
    parse_edit,
    payload_errors,
    review_info,
    review_rows,
    waiting_steps,
)
from jobmonitor.state import action_error_toast, assign, client_of, requires_sign_in
from jobmonitor.statuses import DRAFT_LABELS
from jobmonitor.viewmodels import is_terminal

PAGE_SIZE = 10


class HumanState(rx.State):
    job_id: str = ""
    draft_state: str = ""
    waiting: list[WaitingStep] = []
    review: ReviewInfo = ReviewInfo()
    rows: list[ReviewRow] = []
    selected: list[str] = []
    query: str = ""
    offset: int = 0
    busy: str = ""  # approve | reject | submit | edit | execute while in flight
    editing: str = ""  # the item whose editable fields are open in the editor
    edit_text: str = ""
    edit_error: str = ""
    exec_open: bool = False
    exec_step: str = ""
    exec_name: str = ""
    fields: list[forms.FormField] = []
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    other_errors: list[str] = []
    idempotency_key: str = ""
    _watcher: str = ""
    _items: dict[str, dict[str, Any]] = {}
    _workflow: tuple[str, int | None] = ("", None)

    @rx.var
    def draft_label(self) -> str:
        return DRAFT_LABELS.get(self.draft_state, self.draft_state)

    @rx.var
    def range_label(self) -> str:
        if not self.review.matched:
            return "no items"
        last = min(self.offset + len(self.rows), self.review.matched)
        return f"{self.offset + 1}-{last} of {self.review.matched}"

    def _route_job(self) -> str:
        return str(self.router.url.path).rstrip("/").rpartition("/")[2]

    async def _fetch(self, client: ApiClient) -> bool:
        """Fetch and show (holding the state: for the user's own actions)."""
        snapshot = await fetch(client, self.job_id, self.query, self.offset)
        self._show(snapshot)
        return snapshot.active

    def _show(self, snap: Snapshot) -> None:
        self._workflow, self.draft_state = snap.workflow, snap.draft_state
        assign(self, "waiting", snap.waiting)
        assign(self, "review", snap.review)
        assign(self, "rows", snap.rows)
        self._items = snap.items
        self.selected = [i for i in self.selected if i in self._items]

    @rx.event
    @requires_sign_in
    async def load(self) -> AsyncIterator[Any]:
        """on_load of the job page: the watcher fetches what waits for a person (without
        holding the page's state: the job panel's own live updates must not wait for it)."""
        self.job_id, self.query, self.offset, self.selected, self.editing = (
            self._route_job(),
            "",
            0,
            [],
            "",
        )
        self.waiting, self.review, self.rows = [], ReviewInfo(), []
        yield HumanState.watch

    @rx.event(background=True)
    async def watch(self) -> None:
        """Show what waits, then refresh on the job's events (other reviewers' decisions
        included) until the job is finished or the page is left."""
        async with self:
            me = self._watcher = uuid.uuid4().hex
            job_id, client = self.job_id, await client_of(self)
        if not await self._refresh(me, client, job_id):
            return
        async with LiveFeed(client, job_id=job_id) as feed:
            async for _ in follow(
                feed,
                apply=lambda batch: self._still_here(me, job_id, batch),
                refresh=lambda: self._refresh(me, client, job_id),
                poll_interval=lambda: DETAIL_POLL_SECONDS,
            ):
                pass

    async def _still_here(self, me: str, job_id: str, batch: Batch) -> bool:
        async with self:
            return self._watcher == me and self._route_job() == job_id

    async def _refresh(self, me: str, client: ApiClient, job_id: str) -> bool:
        """Fetch without holding the state, then show what came unless the page moved on."""
        async with self:
            query, offset = self.query, self.offset
        try:
            snapshot = await fetch(client, job_id, query, offset)
        except Unauthorized:
            return False
        except ApiError:
            return True
        async with self:
            if self._watcher != me or self._route_job() != job_id:
                return False
            if (self.query, self.offset) == (query, offset):
                self._show(snapshot)
        return snapshot.active

    # --- execute a manual step -------------------------------------------------------------

    @rx.event
    async def open_execute(self, step_key: str) -> AsyncIterator[Any]:
        """The Execute form of a waiting manual step, from its input schema."""
        workflow_id, version = self._workflow
        try:
            workflow = await (await client_of(self)).workflow(workflow_id, version)
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        spec = next((s for s in workflow.definition.get("steps", []) if s["key"] == step_key), {})
        self.exec_step, self.exec_name = step_key, spec.get("name") or step_key
        self.fields = forms.form_fields(spec.get("input_schema") or {"type": "object"})
        self.values = forms.initial_values(self.fields)
        self.errors = {f.name: "" for f in self.fields}
        self.other_errors, self.idempotency_key, self.exec_open = [], uuid.uuid4().hex, True

    @rx.event
    def set_exec_open(self, value: bool) -> None:
        self.exec_open = value

    @rx.event
    def set_value(self, name: str, value: str) -> None:
        self.values[name], self.errors[name] = value, ""

    @rx.event
    def set_flag(self, name: str, checked: bool) -> None:
        self.values[name], self.errors[name] = ("true" if checked else "false"), ""

    @rx.event
    def set_idempotency_key(self, value: str) -> None:
        self.idempotency_key = value

    @rx.event
    async def execute(self) -> AsyncIterator[Any]:
        payload, errors = forms.build_payload(self.fields, self.values)
        self.errors, self.other_errors = {f.name: errors.get(f.name, "") for f in self.fields}, []
        if errors:
            return
        self.busy = "execute"
        yield
        client = await client_of(self)
        try:
            done = await client.execute_step(
                self.job_id, self.exec_step, payload, self.idempotency_key or None
            )
        except ValidationFailed as exc:
            by_field, other = forms.field_errors(payload_errors(exc.details), self.fields)
            self.errors = {f.name: by_field.get(f.name, "") for f in self.fields}
            self.other_errors = other or ([] if by_field else [exc.message])
            return
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        finally:
            self.busy = ""
        self.exec_open = False
        summary = done.result.get("summary") if isinstance(done.result, dict) else None
        message = f"{self.exec_name}: {summary or done.status}"
        yield rx.toast.success(message) if done.success else rx.toast.error(message)
        await self._fetch(client)

    # --- review -------------------------------------------------------------------------------

    @rx.event
    def toggle(self, item_id: str, checked: bool) -> None:
        others = [i for i in self.selected if i != item_id]
        self.selected = [*others, item_id] if checked else others

    @rx.event
    def toggle_page(self, checked: bool) -> None:
        self.selected = [r.id for r in self.rows] if checked else []

    @rx.event
    async def set_query(self, text: str) -> None:
        self.query, self.offset = text, 0
        await self._fetch(await client_of(self))

    @rx.event
    async def go_page(self, delta: int) -> None:
        self.offset = max(0, self.offset + delta * PAGE_SIZE)
        await self._fetch(await client_of(self))

    @rx.event
    async def decide(self, decision: str) -> AsyncIterator[Any]:
        """Approve or reject the selected items."""
        ids, self.busy = list(self.selected), decision
        yield
        client = await client_of(self)
        try:
            await client.decide(self.job_id, ids, decision)
            self.selected = []
            await self._fetch(client)
        except ApiError as exc:
            yield action_error_toast(exc)
        finally:
            self.busy = ""

    @rx.event
    def start_edit(self, item_id: str) -> None:
        fields = self.review.editable or []
        self.editing, self.edit_error = item_id, ""
        self.edit_text = editable_text(self._items.get(item_id, {}), fields)

    @rx.event
    def set_edit_text(self, text: str) -> None:
        self.edit_text, self.edit_error = text, ""

    @rx.event
    def cancel_edit(self) -> None:
        self.editing = ""

    @rx.event
    async def save_edit(self) -> AsyncIterator[Any]:
        try:
            fields = parse_edit(self.edit_text, self.review.editable or [])
        except ValueError as exc:
            self.edit_error = str(exc)
            return
        self.busy = "edit"
        yield
        client = await client_of(self)
        try:
            await client.patch_review_item(self.job_id, self.editing, fields)
        except ApiError as exc:
            details = exc.details if isinstance(exc.details, list) else []
            self.edit_error = "; ".join(str(d.get("msg", d)) for d in details) or exc.message
            return
        finally:
            self.busy = ""
        self.editing = ""
        await self._fetch(client)

    @rx.event
    async def submit(self, undecided: str) -> AsyncIterator[Any]:
        self.busy = "submit"
        yield
        client = await client_of(self)
        try:
            await client.submit_review(self.job_id, undecided)
            await self._fetch(client)
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        finally:
            self.busy = ""
        yield rx.toast.success("Review submitted")


@dataclass(frozen=True)
class Snapshot:
    active: bool  # the job is not finished
    workflow: tuple[str, int | None]
    draft_state: str
    waiting: list[WaitingStep]
    review: ReviewInfo
    rows: list[ReviewRow]
    items: dict[str, dict[str, Any]]


async def fetch(client: ApiClient, job_id: str, query: str, offset: int) -> Snapshot:
    """The job's waiting steps and its review (a page of items), when it has a gate."""
    job, steps = await asyncio.gather(client.get_job(job_id), client.steps(job_id))
    review = None
    if has_gate(steps.steps):
        try:
            review = await client.review(job_id, q=query or None, limit=PAGE_SIZE, offset=offset)
        except ApiError as exc:
            if exc.status != 404:  # no review yet: the gate has not been reached
                raise
    return Snapshot(
        active=not is_terminal(job.status),
        workflow=(job.workflow_id, job.workflow_version),
        draft_state=job.draft_state,
        waiting=waiting_steps(steps.steps),
        review=review_info(review) if review else ReviewInfo(),
        rows=review_rows(review) if review else [],
        items={i.id: i.item for i in review.items} if review else {},
    )
