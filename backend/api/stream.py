"""The live event stream behind SSE and the WebSockets.

`job_events` is the record; the Redis channel of the workspace only says "something new".
A stream subscribes first, then replays from Postgres every matching event after the client's
last id, then on each matching publish reads Postgres again from its last id, so a lost or
reordered publish never loses an event. A publish whose id is below what was already sent (a
transaction that committed late) is delivered as it comes. When the channel is quiet the
stream polls Postgres every few seconds, and when Redis is down it polls every second.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from redis.exceptions import RedisError

from backend.errors import NotFound
from backend.events import channel
from backend.http.deps import transaction
from backend.jobs import queries
from backend.jobs.states import JOB_TERMINAL
from backend.jobs.statuses import workflow_step_id
from backend.redaction import redact
from backend.redis_url import async_redis_from_url
from backend.settings import get_settings

log = logging.getLogger(__name__)

BATCH = 500
JOB_END_EVENTS = frozenset({"workflow_completed", "workflow_failed", "cancelled"})


@dataclass(frozen=True)
class EventFilter:
    workspace_id: uuid.UUID
    job_id: uuid.UUID | None = None
    workflow_id: uuid.UUID | None = None
    step_key: str | None = None  # one step's events (with a workflow)

    def matches(self, event: dict[str, Any]) -> bool:
        return (
            str(event.get("workspace_id")) == str(self.workspace_id)
            and (self.job_id is None or str(event.get("job_id")) == str(self.job_id))
            and (self.workflow_id is None or str(event.get("workflow_id")) == str(self.workflow_id))
            and (self.step_key is None or event.get("step_key") == self.step_key)
        )


def telemetry_payload(event: dict[str, Any]) -> dict[str, Any]:
    """An event with the telemetry field names (execution_id, step_id: the workflow step's id,
    step_name, status, timestamp, duration_seconds, error, retry_count, output) next to the
    stored ones."""
    created = event.get("created_at")
    step_key, workflow_id = event.get("step_key"), str(event["workflow_id"])
    out: dict[str, Any] = {
        "id": event["id"],
        "type": event["type"],
        "execution_id": str(event["job_id"]),
        "job_id": str(event["job_id"]),
        "workflow_id": workflow_id,
        "workspace_id": str(event["workspace_id"]),
        "step_id": None if step_key is None else str(workflow_step_id(workflow_id, step_key)),
        "step_key": step_key,
        "attempt_id": None if event.get("attempt_id") is None else str(event["attempt_id"]),
        "from_status": event.get("from_status"),
        "to_status": event.get("to_status"),
        "status": event.get("to_status"),
        "timestamp": created.isoformat() if isinstance(created, datetime) else created,
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
        "data": _redacted(event.get("data")),  # always: streams are not for secrets
    }
    for key, value in out["data"].items():
        out.setdefault(key, value)
    return out


def _redacted(data: dict[str, Any] | None) -> dict[str, Any]:
    """The event's data redacted, but for `actor` (who asked: our own `token:<name>
    (jm_<prefix>)`, not a secret, and not worth running the secret detectors on)."""
    out = dict(data or {})
    actor = out.pop("actor", None)
    out = redact(out)
    if actor is not None:
        out["actor"] = actor
    return out


def read_events(f: EventFilter, after_id: int, limit: int = BATCH) -> list[dict[str, Any]]:
    """Stored events after `after_id` matching the filter, oldest first (one indexed range)."""
    with transaction() as conn:
        return queries.read_events(
            conn,
            f.workspace_id,
            after_id,
            limit,
            job_id=f.job_id,
            workflow_id=f.workflow_id,
            step_key=f.step_key,
        )


def latest_event_id(workspace_id: uuid.UUID) -> int:
    with transaction() as conn:
        return queries.latest_event_id(conn, workspace_id)


def job_is_terminal(workspace_id: uuid.UUID, job_id: uuid.UUID) -> bool:
    """Finished, or gone (deleted meanwhile)."""
    try:
        with transaction() as conn:
            job = queries.get_job(conn, job_id, workspace_id=workspace_id, payloads=False)
    except NotFound:
        return True
    return job.status in JOB_TERMINAL


class _Sent:
    """Which event ids were sent: everything up to `floor` (the client's last id, then the
    oldest id forgotten) plus a bounded set of recent ids; `last` is the highest."""

    def __init__(self, floor: int, size: int = 20_000) -> None:
        self.floor = floor
        self.last = floor
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._size = size

    def __contains__(self, event_id: int) -> bool:
        return event_id <= self.floor or event_id in self._ids

    def add(self, event_id: int) -> None:
        self._ids.add(event_id)
        self._order.append(event_id)
        if len(self._order) > self._size:
            oldest = self._order.popleft()
            self._ids.discard(oldest)
            self.floor = max(self.floor, oldest)
        self.last = max(self.last, event_id)


async def stream_events(
    f: EventFilter,
    after_id: int,
    *,
    until_terminal: bool = False,
    max_seconds: float | None = None,
    keepalive: float = 15.0,
    quiet_poll: float = 5.0,
) -> AsyncIterator[dict[str, Any] | None]:
    """Yield stored events (raw rows) after `after_id`, then live ones; yields None as a
    keep-alive tick when nothing was sent for `keepalive` seconds. Ends at `max_seconds`, or
    (`until_terminal` with a job filter) once the job is finished."""
    client = async_redis_from_url(get_settings().require_redis_url(), socket_connect_timeout=2)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    live = True
    try:
        await pubsub.subscribe(channel(f.workspace_id))
    except (RedisError, OSError) as exc:
        log.warning("event stream without Redis (polling Postgres): %s", exc)
        live = False
    sent = _Sent(after_id)
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    try:
        last_out = time.monotonic()
        async for event in _catch_up(f, sent):
            yield event
            last_out = time.monotonic()
        if (
            until_terminal
            and f.job_id
            and await anyio.to_thread.run_sync(job_is_terminal, f.workspace_id, f.job_id)
        ):
            # the job may have ended after the catch-up read: its last events committed with
            # its end, so one more read sends them
            async for event in _catch_up(f, sent):
                yield event
            return
        last_read = time.monotonic()
        while deadline is None or time.monotonic() < deadline:
            wait = 1.0 if deadline is None else max(0.05, min(1.0, deadline - time.monotonic()))
            woke, late, live = await _next_messages(pubsub, f, sent, wait, live)
            for event in late:
                sent.add(event["id"])
                yield event
                last_out = time.monotonic()
            quiet = time.monotonic() - last_read >= (quiet_poll if live else 1.0)
            if woke or quiet:
                last_read = time.monotonic()
                async for event in _catch_up(f, sent):
                    yield event
                    last_out = time.monotonic()
                    if until_terminal and _ends_job(f, event):
                        return
            if time.monotonic() - last_out >= keepalive:
                yield None
                last_out = time.monotonic()
    finally:
        with anyio.CancelScope(shield=True):
            try:
                await pubsub.aclose()
                await client.aclose()
            except (RedisError, OSError):
                pass


async def _catch_up(f: EventFilter, sent: _Sent) -> AsyncIterator[dict[str, Any]]:
    while True:
        batch = await anyio.to_thread.run_sync(read_events, f, sent.last)
        for event in batch:
            if event["id"] not in sent:
                sent.add(event["id"])
                yield event
        if len(batch) < BATCH:
            return


async def _next_messages(
    pubsub: Any, f: EventFilter, sent: _Sent, wait: float, live: bool
) -> tuple[bool, list[dict[str, Any]], bool]:
    """Wait up to `wait` s for publishes; (a newer matching event exists, late events to send
    as they are, Redis still usable)."""
    if not live:
        await anyio.sleep(wait)
        return False, [], False
    woke, late = False, []
    try:
        message = await pubsub.get_message(timeout=wait)
        while message is not None:
            event = _parse(message.get("data"))
            if event is not None and f.matches(event) and event["id"] not in sent:
                if event["id"] > sent.last:
                    woke = True
                else:
                    late.append(event)
            message = await pubsub.get_message(timeout=0)
    except (RedisError, OSError) as exc:
        log.warning("event stream lost Redis (polling Postgres): %s", exc)
        return True, late, False
    return woke, late, True


def _parse(raw: Any) -> dict[str, Any] | None:
    try:
        event = json.loads(raw)
        int(event["id"])
    except (TypeError, ValueError, KeyError):
        return None
    return event if isinstance(event, dict) else None


def _ends_job(f: EventFilter, event: dict[str, Any]) -> bool:
    return (
        event["type"] in JOB_END_EVENTS
        and event.get("step_key") is None
        and str(event["job_id"]) == str(f.job_id)
    )
