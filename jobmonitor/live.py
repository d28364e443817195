"""Live updates for a page's background task: the API's event stream, with polling as the
fallback when the stream is unavailable.

`LiveFeed` reads the stream in a task of its own (reconnecting with Last-Event-ID) and hands
the page batches of events; while the stream is down its batches are empty ticks and
`live` is False. `follow()` is the loop every page runs: apply each batch at once (a step's
new status shows without waiting for a fetch), and refresh the page's snapshot when the
stream (re)connects, shortly after events, and on the polling interval while polling. It
ends when `apply` says the page was left or `refresh` says there is nothing more to watch.

`Generation` keeps the watcher's fetches from overwriting newer data: see its docstring.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import NamedTuple

from apiclient import models as t
from apiclient.client import ApiClient
from apiclient.errors import ApiError, Unauthorized

LIST_POLL_SECONDS = 3.0  # polling fallback: the list refreshes every 3 s while jobs run
DETAIL_POLL_SECONDS = 2.0  # polling fallback: the job page refreshes every 2 s while it runs
STREAM_RETRY_SECONDS = 10.0
REFRESH_GAP_SECONDS = 0.3  # at most ~3 snapshot fetches per second while events pour in
IDLE_WAIT_SECONDS = 30.0
OVERTAKEN_TRIES = 3  # fetches a watcher makes when user actions keep overtaking them


class Generation(NamedTuple):
    """The generation of what a page shows: a ticket that tells the watcher whether the data
    it fetched may still be shown.

    The watcher fetches without holding the page's state (a user must not wait for it), so
    while its fetch is in flight the user may change what the page asks for (a search, a tab,
    a selected step) or run an action that shows newer data itself (Cancel, Refresh). Each of
    those starts a new generation. The watcher takes the generation as its ticket before
    fetching and shows the result only if `current(ticket)` still holds afterwards; otherwise
    the fetch answers an older question: it is dropped and made again (at most
    `OVERTAKEN_TRIES` times, then the next tick tries).

    An immutable value, replaced rather than changed, so Reflex's state manager sees the change.
    """

    number: int = 0

    def next(self) -> Generation:
        """The generation after a user action or a change of what the page asks for."""
        return Generation(self.number + 1)

    def current(self, ticket: Generation) -> bool:
        """Whether data fetched under `ticket` may still be shown."""
        return ticket == self


@dataclass
class Batch:
    events: list[t.Event] = field(default_factory=list)
    live: bool = False  # the stream is connected
    resync: bool = False  # the stream (re)opened: events may have been missed before it


class LiveFeed:
    """The event stream of one page (optionally one job's or one workflow's)."""

    def __init__(
        self,
        client: ApiClient,
        *,
        job_id: str | None = None,
        workflow_id: str | None = None,
        retry_seconds: float = STREAM_RETRY_SECONDS,
    ) -> None:
        self.client, self.job_id, self.workflow_id = client, job_id, workflow_id
        self.retry_seconds = retry_seconds
        self.live = False
        self.last_id: int | None = None
        self.error: ApiError | None = None
        self._resync = False
        self._stopped = False
        self._queue: asyncio.Queue[t.Event | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LiveFeed:
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def next(self, timeout: float) -> Batch:
        """The events that arrived (waiting up to `timeout` for the first one)."""
        events: list[t.Event] = []
        try:
            first = await asyncio.wait_for(self._queue.get(), max(timeout, 0.0))
            if first is not None:
                events.append(first)
        except TimeoutError:
            pass
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                events.append(item)
        resync, self._resync = self._resync, False
        return Batch(events, self.live, resync)

    def _opened(self) -> None:
        self.live, self._resync, self.error = True, True, None
        self._queue.put_nowait(None)  # wake the page: it refreshes its snapshot

    def _closed(self, error: ApiError | None) -> None:
        if self.live or error is not None:
            self.live, self.error = False, error
            self._queue.put_nowait(None)

    async def _read(self) -> None:
        """Read the stream until the page leaves; reconnect after a break, give up for good
        only when the token is refused."""
        while not self._stopped:
            try:
                stream = self.client.events(
                    job_id=self.job_id,
                    workflow_id=self.workflow_id,
                    last_event_id=self.last_id,
                    on_open=self._opened,
                )
                async for event in stream:
                    self.last_id = event.id
                    self._queue.put_nowait(event)
                self._closed(None)  # the server ended the stream: reconnect at once
                await asyncio.sleep(0.2)
            except Unauthorized as exc:
                self._closed(exc)
                self._stopped = True
            except ApiError as exc:
                self._closed(exc)
                await asyncio.sleep(self.retry_seconds)


Apply = Callable[[Batch], Awaitable[bool]]
Refresh = Callable[[], Awaitable[bool]]


async def follow(
    feed: LiveFeed,
    *,
    apply: Apply,
    refresh: Refresh,
    poll_interval: Callable[[], float | None],
    live_interval: Callable[[], float | None] = lambda: None,
    refresh_gap: float = REFRESH_GAP_SECONDS,
) -> AsyncIterator[None]:
    """Drive a page until `apply` (page left) or `refresh` (nothing left to watch) says stop;
    yields after every step so the page's task can send what the callbacks queued.

    `poll_interval()` is the refresh period while the stream is down (None: only on demand),
    `live_interval()` the period while it is up, for what no event carries (step progress).
    """
    dirty, last = False, time.monotonic()
    keep = True
    while keep:
        interval = live_interval() if feed.live else poll_interval()
        batch = await feed.next(_wait(dirty, interval, last, refresh_gap))
        keep = await apply(batch)
        yield
        dirty = dirty or batch.resync or bool(batch.events)
        now = time.monotonic()
        periodic = interval is not None and now - last >= interval
        if keep and ((dirty and now - last >= refresh_gap) or periodic or batch.resync):
            keep = await refresh()
            dirty, last = False, time.monotonic()
            yield


def _wait(dirty: bool, interval: float | None, last: float, refresh_gap: float) -> float:
    """Seconds until the next refresh is due (or an idle check when none is)."""
    if dirty:
        return last + refresh_gap - time.monotonic()
    if interval is not None:
        return last + interval - time.monotonic()
    return IDLE_WAIT_SECONDS
