"""The job page's state (`JobState`): the job and its steps, the selected step and attempt,
the live feed while the job runs, and the job's actions. The view is `pages/job_detail.py`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from apiclient import models as t
from apiclient.client import ApiClient
from apiclient.errors import ApiError, Unauthorized
from jobmonitor import gantt, routes
from jobmonitor.live import (
    DETAIL_POLL_SECONDS,
    OVERTAKEN_TRIES,
    Batch,
    Generation,
    LiveFeed,
    follow,
)
from jobmonitor.state import (
    action_error_toast,
    assign,
    client_of,
    error_kind,
    requires_sign_in,
    signin_redirect,
)
from jobmonitor.statuses import JobAction
from jobmonitor.step_panel import LogView, attempt_to_show, countdown_text
from jobmonitor.viewmodels import (
    AttemptRow,
    JobInfo,
    LogRow,
    StepDetail,
    StepRow,
    apply_to_job,
    apply_to_steps,
    attempt_rows,
    is_terminal,
    job_info,
    log_row,
    payload_json,
    running_step,
    step_detail,
    step_rows,
)

LIVE_REFRESH_GAP_SECONDS = 1.0  # events carry the statuses; the snapshot adds durations and outputs
DOWNLOAD_LOGS = "download_logs"  # `busy` while the export downloads

Snapshot = tuple[t.Job, list[t.Step]]


class JobState(LogView, rx.State):
    job: JobInfo = JobInfo()
    job_input: str = ""
    job_output: str = ""
    job_metadata: str = ""  # the creator's notes, "" when none
    steps: list[StepRow] = []
    detail: StepDetail = StepDetail()
    ticks: list[str] = []
    selected_key: str = ""
    attempts: list[AttemptRow] = []
    attempt_number: int = 0  # the attempt whose logs show (0: none yet)
    attempt_pinned: bool = False  # the user picked an attempt: stop following the current one
    retry_countdown: str = ""  # "in 4 s" until a retrying step's next attempt
    load_error: str = ""  # "", not_found, forbidden, network, error
    load_message: str = ""
    loading: bool = True
    live: bool = False
    busy: str = ""  # what is in flight: a JobAction's value, or DOWNLOAD_LOGS
    _watcher: str = ""
    _followed_step: str = ""  # the running step the list last scrolled to
    _pinned: bool = False  # the user picked a step: stop following the running one
    _details: dict[str, StepDetail] = {}
    _generation: Generation = Generation()  # a new one for each load, action and selection

    @rx.var
    def selected(self) -> StepRow:
        return next((s for s in self.steps if s.key == self.selected_key), StepRow())

    @rx.var
    def selected_attempt(self) -> AttemptRow:
        return next((a for a in self.attempts if a.number == self.attempt_number), AttemptRow())

    def _route_job(self) -> str:
        return str(self.router.url.path).rstrip("/").rpartition("/")[2]

    def _show(self, snapshot: Snapshot, now: datetime | None = None) -> None:
        """Show a fresh snapshot; only what changed is sent (payloads can be large)."""
        job, steps = snapshot
        now = now or datetime.now(UTC)
        assign(self, "job", job_info(job, now))
        assign(self, "job_input", payload_json(job.input_payload))
        assign(self, "job_output", payload_json(job.output_payload))
        assign(self, "job_metadata", payload_json(job.metadata) if job.metadata else "")
        assign(self, "steps", step_rows(steps, now))
        frame = gantt.axis([gantt.Span(s.started_at, s.completed_at) for s in steps], now)
        assign(self, "ticks", gantt.ticks(frame[1]) if frame else [])
        self._details = {s.step_key: step_detail(s) for s in steps}
        running = running_step(self.steps)
        if (running and not self._pinned) or not any(
            s.key == self.selected_key for s in self.steps
        ):
            self._select(running or default_step(self.steps))
        assign(self, "detail", self._details.get(self.selected_key, StepDetail()))
        self._update_countdown()
        if self.loading or self.load_error:
            self.loading, self.load_error, self.load_message = False, "", ""

    def _select(self, key: str) -> None:
        """Follow another step: details fetched for the previous one are out of date."""
        if key != self.selected_key:
            self.selected_key, self.attempt_pinned = key, False
            self.reset_log_view()
            self._generation = self._generation.next()

    async def _attempts_and_logs(
        self, client: ApiClient, job_id: str, step_key: str, number: int, pinned: bool = False
    ) -> tuple[list[AttemptRow], int, list[LogRow]]:
        """The step's attempts, and the log lines of attempt `number` if the user picked it
        (`pinned`), else of the current attempt (followed live)."""
        if not step_key:
            return [], 0, []
        attempts = attempt_rows(await client.attempts(job_id, step_key))
        number = attempt_to_show(attempts, number, pinned)
        lines = (await client.logs(job_id, step=step_key, attempt=number)).items if number else []
        return attempts, number, [log_row(line) for line in lines]

    def _show_details(self, details: tuple[list[AttemptRow], int, list[LogRow]]) -> None:
        attempts, number, logs = details
        if number != self.attempt_number:
            self.reset_log_view()
        assign(self, "attempts", attempts)
        assign(self, "attempt_number", number)
        assign(self, "logs", logs)

    @rx.event
    async def load(self) -> AsyncIterator[Any]:
        """on_load: the job, its steps and the selected step's details; then the watcher."""
        async for update in self._load():
            yield update

    @requires_sign_in
    async def _load(self) -> AsyncIterator[Any]:
        self._generation = self._generation.next()
        job_id = self._route_job()
        if job_id != self.job.id:
            self.job, self.steps, self.selected_key, self.attempts, self.logs = (
                JobInfo(),
                [],
                "",
                [],
                [],
            )
            self.job_input, self.job_output, self.detail = "", "", StepDetail()
            self._pinned = self.attempt_pinned = False
            self.loading = True
            yield
        client = await client_of(self)
        try:
            self._show(await fetch_snapshot(client, job_id))
            self._select_from_url()
            self._show_details(await self._attempts_and_logs(client, job_id, self.selected_key, 0))
        except ApiError as exc:
            self.loading, self.load_error, self.load_message = False, error_kind(exc), exc.message
            if isinstance(exc, Unauthorized):
                yield signin_redirect(self.router.url.path)
            return
        yield scroll_to_step(running_step(self.steps))
        if not is_terminal(self.job.status):
            yield JobState.watch

    def _select_from_url(self) -> None:
        """`?step=<key>` (routes.job_step, the runs grid's links): show that step, and stop
        following the running one, as if the user had picked it."""
        key = str(self.router.url.query_parameters.get("step", ""))
        if key and any(s.key == key for s in self.steps):
            self._select(key)
            self._pinned = True
            self.detail = self._details.get(key, StepDetail())

    @rx.event
    async def retry(self) -> AsyncIterator[Any]:
        self.loading, self.load_error = True, ""
        yield
        async for update in self._load():
            yield update

    @rx.event
    async def select_step(self, key: str) -> AsyncIterator[Any]:
        self.selected_key, self.attempt_number, self._pinned = key, 0, True
        self.attempt_pinned = False
        self.reset_log_view()
        self.detail = self._details.get(key, StepDetail())
        self._update_countdown()
        yield
        await self._reload_details(0)

    @rx.event
    async def select_attempt(self, number: int) -> None:
        """Show attempt `number` and stay on it while later attempts run."""
        self.attempt_pinned = True
        await self._reload_details(number)

    @rx.event
    async def follow_current_attempt(self) -> None:
        self.attempt_pinned = False
        await self._reload_details(0)

    @rx.event
    def tick_retry_clock(self, _now: str = "") -> None:
        """Every second while the selected step waits for its next attempt (a clock in the
        page calls it)."""
        self._update_countdown()

    def _update_countdown(self) -> None:
        assign(
            self, "retry_countdown", countdown_text(self.detail.next_attempt_at, datetime.now(UTC))
        )

    async def _reload_details(self, number: int) -> None:
        """The user picked a step or an attempt: show its attempts and logs."""
        self._generation = self._generation.next()
        try:
            client = await client_of(self)
            self._show_details(
                await self._attempts_and_logs(
                    client, self.job.id, self.selected_key, number, self.attempt_pinned
                )
            )
        except ApiError:
            self.attempts, self.logs = [], []

    @rx.event
    async def act(self, command: str) -> AsyncIterator[Any]:
        """The job info panel's buttons (Cancel, Resume, Re-run): `command` is a JobAction's
        value."""
        action = JobAction(command)
        client = await client_of(self)
        self._generation = self._generation.next()
        self.busy = action
        yield
        try:
            if action is JobAction.RERUN:
                job = await client.rerun_job(self.job.id)
                yield rx.redirect(routes.job(job.id))
                return
            if action is JobAction.CANCEL:
                await client.cancel_job(self.job.id)
            elif action is JobAction.RESUME:
                await client.resume_job(self.job.id)
            self._show(await fetch_snapshot(client, self.job.id))
            if self.selected_key:  # the job may have finished already: no watcher would refresh it
                self._show_details(
                    await self._attempts_and_logs(
                        client,
                        self.job.id,
                        self.selected_key,
                        self.attempt_number,
                        self.attempt_pinned,
                    )
                )
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        finally:
            self.busy = ""
        yield rx.toast.success("Job cancelled" if action is JobAction.CANCEL else "Job resumed")
        if not is_terminal(self.job.status):
            yield JobState.watch

    @rx.event
    async def download_logs(self) -> AsyncIterator[Any]:
        """The API's JSON export of the job, saved by the browser."""
        self.busy = DOWNLOAD_LOGS
        yield
        try:
            data = await (await client_of(self)).export(self.job.id)
        except ApiError as exc:
            yield action_error_toast(exc)
            return
        finally:
            self.busy = ""
        yield rx.download(
            data=data, filename=f"job-{self.job.id}.json", mime_type="application/json"
        )

    @rx.event(background=True)
    async def watch(self) -> AsyncIterator[Any]:
        """Follow the job until it is terminal or the page is left (see jobmonitor.live)."""
        async with self:
            me = self._watcher = uuid.uuid4().hex
            job_id, client = self.job.id, await client_of(self)
        emit: list[Any] = []
        async with LiveFeed(client, job_id=job_id) as feed:
            async for _ in follow(
                feed,
                apply=lambda batch: self._apply(me, job_id, batch, emit),
                refresh=lambda: self._refresh(me, client, job_id, emit),
                poll_interval=lambda: DETAIL_POLL_SECONDS,
                live_interval=self._live_interval,
                refresh_gap=LIVE_REFRESH_GAP_SECONDS,
            ):
                while emit:
                    yield emit.pop(0)

    def _live_interval(self) -> float | None:
        """Step progress and elapsed time carry no event: refresh them while a step runs."""
        return DETAIL_POLL_SECONDS if running_step(self.steps) else None

    def _watching(self, me: str, job_id: str) -> bool:
        return self._watcher == me and self._route_job() == job_id

    async def _apply(self, me: str, job_id: str, batch: Batch, emit: list[Any]) -> bool:
        async with self:
            if not self._watching(me, job_id):
                return False
            self.live = batch.live
            for event in batch.events:
                job = apply_to_job(self.job, event)
                if job is not None:
                    self.job = job
                steps = apply_to_steps(self.steps, event)
                if steps is not None:
                    self.steps = steps
            self._follow_running(emit)
        return True

    async def _refresh(self, me: str, client: ApiClient, job_id: str, emit: list[Any]) -> bool:
        """Fetch the snapshot and the selected step's details; False once the job is terminal
        (nothing more will change). A fetch that an action or another selection overtook is
        dropped and made again (see `Generation`)."""
        for _ in range(OVERTAKEN_TRIES):
            async with self:
                ticket = self._generation
                selection = (self.selected_key, self.attempt_number, self.attempt_pinned)
            try:
                snapshot = await fetch_snapshot(client, job_id)
                details = await self._attempts_and_logs(client, job_id, *selection)
            except Unauthorized:
                return False
            except ApiError:
                return True
            async with self:
                if not self._watching(me, job_id):
                    return False
                if self._generation.current(ticket):
                    self._show(snapshot)  # following the running step starts a new generation
                    if self._generation.current(ticket):
                        self._show_details(details)
                    self._follow_running(emit)
                    return not is_terminal(self.job.status)
        return True

    def _follow_running(self, emit: list[Any]) -> None:
        """Scroll the timeline to the step being worked on when that changes."""
        key = running_step(self.steps)
        if key and key != self._followed_step:
            emit.append(scroll_to_step(key))
        self._followed_step = key


async def fetch_snapshot(client: ApiClient, job_id: str) -> Snapshot:
    job, steps = await asyncio.gather(client.get_job(job_id), client.steps(job_id))
    return job, steps.steps


def default_step(steps: list[StepRow]) -> str:
    """The step to show first: the running one, else the first failure, else the first."""
    return (
        running_step(steps)
        or next((s.key for s in steps if s.error), "")
        or (steps[0].key if steps else "")
    )


def scroll_to_step(key: str) -> rx.event.EventSpec | None:
    if not key:
        return None
    return rx.call_script(
        f"document.getElementById({('step-' + key)!r})?.scrollIntoView({{block: 'nearest', behavior: 'smooth'}})"
    )


# view
