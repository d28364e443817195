"""Following one job live, for `watch` and `run --watch`.

A `JobFeed` reads the job's Server-Sent Events in a thread of its own and hands the command
`Transition`s (job, step and attempt status changes, in event id order) and finally `Ended`
with the finished job. A stream that drops is reopened with `Last-Event-ID`, so nothing is
missed or repeated. When the stream cannot be used (it keeps failing, or the server has no
event route) the feed says so with a `Notice` and polls `GET /jobs/{id}` and
`GET /jobs/{id}/steps` every 2 s instead, reporting the changes it sees.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from apiclient.errors import ApiError, Unavailable
from apiclient.sync import SyncClient
from backend.jobs.statuses import JOB_TERMINAL, JobStatus

POLL_SECONDS = 2.0
RECONNECTS = 3  # failed (re)connections in a row before polling
RETRY_SECONDS = 0.5  # wait before reconnection n: n * this
POLL_ERRORS = 5  # failed polls in a row before giving up


@dataclass(frozen=True)
class Transition:
    """A status change: of the job (`step_key` None), a step, or an attempt (lost)."""

    kind: str  # "job", "step" or "attempt"
    step_key: str | None
    from_status: str | None
    to_status: str
    at: str | None  # when it happened (the database's clock), ISO 8601
    event_id: int | None = None  # None when seen by polling
    type: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "kind": self.kind,
            "step": self.step_key,
            "from": self.from_status,
            "to": self.to_status,
            "at": self.at,
            "data": self.data,
        }


@dataclass(frozen=True)
class Ended:
    job: dict[str, Any]


@dataclass(frozen=True)
class Notice:
    message: str


Item = Transition | Ended | Notice | Exception


def transition_of(event: dict[str, Any]) -> Transition | None:
    """The status change an event records; None for other events (log lines...)."""
    kind_of = "attempt" if str(event.get("type", "")).startswith("attempt_") else "step"
    kind = "job" if event.get("step_key") is None else kind_of
    to = event.get("to_status")
    if event.get("type") == "workflow_created":
        to = JobStatus.PENDING
    if not to:
        return None
    return Transition(
        kind=kind,
        step_key=event.get("step_key"),
        from_status=event.get("from_status"),
        to_status=str(to),
        at=event.get("created_at"),
        event_id=event.get("id"),
        type=str(event.get("type", "")),
        data=dict(event.get("data") or {}),
    )


class JobFeed:
    """Use as a context manager; read with `get()` or iterate until `Ended`."""

    def __init__(
        self,
        api: SyncClient,
        job_id: str,
        *,
        poll_seconds: float | None = None,
        reconnects: int | None = None,
        retry_seconds: float | None = None,
    ) -> None:
        self.api, self.job_id = api, job_id
        self.poll_seconds = POLL_SECONDS if poll_seconds is None else poll_seconds
        self.reconnects = RECONNECTS if reconnects is None else reconnects
        self.retry_seconds = RETRY_SECONDS if retry_seconds is None else retry_seconds
        self.last_event_id: int | None = None
        self._failures = 0
        self._known: dict[str | None, str] = {}  # status by step key (None: the job)
        self._items: queue.Queue[Item] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"feed-{job_id[:8]}", daemon=True)

    def __enter__(self) -> JobFeed:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()

    def get(self, timeout: float) -> list[Item]:
        """What arrived, waiting up to `timeout` s for the first item."""
        items: list[Item] = []
        try:
            items.append(self._items.get(timeout=max(timeout, 0.0)))
            while True:
                items.append(self._items.get_nowait())
        except queue.Empty:
            pass
        return items

    def __iter__(self) -> Iterator[Transition | Notice | Ended]:
        """Transitions and notices, then `Ended`; raises what the feed failed with."""
        while True:
            for item in self.get(1.0):
                if isinstance(item, Exception):
                    raise item
                yield item
                if isinstance(item, Ended):
                    return

    # --- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            with self.api.copy() as api:
                reason = self._stream(api)
                if reason is not None and not self._stop.is_set():
                    self._items.put(
                        Notice(
                            f"event stream unavailable ({reason}); polling every {self.poll_seconds:g} s"
                        )
                    )
                    self._poll(api)
        except Exception as exc:  # handed to the reader, which raises it
            self._items.put(exc)

    def _opened(self) -> None:
        """The stream is open: reconnections start counting again."""
        self._failures = 0

    def _stream(self, api: SyncClient) -> str | None:
        """Follow the stream until the job ends (None) or it cannot be used (the reason)."""
        while not self._stop.is_set():
            try:
                for event in api.events(self.job_id, self.last_event_id, on_open=self._opened):
                    self.last_event_id = int(event["id"])
                    self._emit(transition_of(event))
                job = api.get_job(self.job_id)  # the server ended the stream: finished?
                if job["status"] in JOB_TERMINAL:
                    self._items.put(Ended(job))
                    return None
            except Unavailable as exc:
                self._failures += 1
                if self._failures > self.reconnects:
                    return exc.message
                self._stop.wait(self.retry_seconds * self._failures)
            except ApiError as exc:
                if exc.status in (401, 403):
                    raise
                api.get_job(self.job_id)  # an unknown job raises NotFound here
                return exc.message  # the job exists: the server has no usable event route
        return None

    def _poll(self, api: SyncClient) -> None:
        errors = 0
        while not self._stop.is_set():
            try:
                job, steps = api.get_job(self.job_id), api.job_steps(self.job_id)
            except Unavailable:
                errors += 1
                if errors > POLL_ERRORS:
                    raise
                self._stop.wait(self.poll_seconds)
                continue
            errors = 0
            for step in steps:
                self._changed("step", step["step_key"], step)
            self._changed("job", None, job)
            if job["status"] in JOB_TERMINAL:
                self._items.put(Ended(job))
                return
            self._stop.wait(self.poll_seconds)

    def _changed(self, kind: str, key: str | None, row: dict[str, Any]) -> None:
        status = str(row["status"])
        if self._known.get(key) == status:
            return
        data = (
            {"attempt": row.get("attempt_number"), "error": row.get("error_message")}
            if kind == "step"
            else {"error": row.get("error_message")}
        )
        now = datetime.now(UTC).isoformat()
        self._emit(
            Transition(
                kind,
                key,
                self._known.get(key),
                status,
                now,
                None,
                "polled",
                {k: v for k, v in data.items() if v},
            )
        )

    def _emit(self, transition: Transition | None) -> None:
        if transition is None:
            return
        if transition.kind != "attempt":
            self._known[transition.step_key] = transition.to_status
        self._items.put(transition)
