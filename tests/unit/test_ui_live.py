"""Live updates: the feed falls back to polling when the stream is down and resyncs when it
opens; `follow()` applies events at once, refreshes soon after, polls, and stops."""

from __future__ import annotations

import asyncio
import itertools
import pickle
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from apiclient import models as t
from apiclient.errors import NotFound, Unauthorized, Unavailable
from jobmonitor.live import Batch, Generation, LiveFeed, follow
from tests import aio


def ev(i: int, **over: Any) -> t.Event:
    return t.Event.model_validate({"id": i, "job_id": "j", "type": "step_completed"} | over)


class FakeStream:
    """A stand-in for ApiClient.events: each call plays the next script."""

    def __init__(self, scripts: list[Callable[[], AsyncIterator[t.Event]]]) -> None:
        self.scripts = scripts
        self.calls: list[dict[str, Any]] = []

    def events(self, **kwargs: Any) -> AsyncIterator[t.Event]:
        on_open = kwargs.pop("on_open")
        self.calls.append(kwargs)
        script = self.scripts.pop(0) if self.scripts else _hang
        return _opened(script, on_open)


async def _opened(
    script: Callable[[], AsyncIterator[t.Event]], on_open: Callable[[], None]
) -> AsyncIterator[t.Event]:
    async for item in script(on_open):  # type: ignore[call-arg]
        yield item


async def _hang(on_open: Callable[[], None]) -> AsyncIterator[t.Event]:
    on_open()
    await asyncio.sleep(3600)
    yield ev(0)


def stream_of(*events: t.Event, then_hang: bool = True) -> Callable[..., AsyncIterator[t.Event]]:
    async def script(on_open: Callable[[], None]) -> AsyncIterator[t.Event]:
        on_open()
        for e in events:
            yield e
        if then_hang:
            await asyncio.sleep(3600)

    return script


def failing(exc: Exception) -> Callable[..., AsyncIterator[t.Event]]:
    async def script(on_open: Callable[[], None]) -> AsyncIterator[t.Event]:
        raise exc
        yield  # pragma: no cover

    return script


def test_feed_delivers_events_and_flags_the_first_open_as_resync() -> None:
    async def go() -> list[Batch]:
        fake = FakeStream([stream_of(ev(1), ev(2))])
        async with LiveFeed(fake, job_id="j") as feed:  # type: ignore[arg-type]
            first = await feed.next(1.0)
            rest = await feed.next(0.05) if len(first.events) < 2 else Batch()
            return [first, rest]

    first, rest = aio.run(go())
    assert first.live and first.resync
    assert [e.id for e in first.events + rest.events] == [1, 2]


def test_feed_polls_while_the_stream_is_down_then_resumes_with_last_event_id() -> None:
    async def go() -> tuple[list[Batch], FakeStream]:
        fake = FakeStream(
            [stream_of(ev(7), then_hang=False), failing(Unavailable("down")), stream_of(ev(8))]
        )
        batches = []
        async with LiveFeed(fake, retry_seconds=0.05) as feed:  # type: ignore[arg-type]
            for _ in range(30):
                batches.append(await feed.next(0.02))
                if any(e.id == 8 for b in batches for e in b.events):
                    break
        return batches, fake

    batches, fake = aio.run(go())
    assert any(not b.live for b in batches)  # the page saw the stream down (polling)
    assert batches[-1].live
    assert [c["last_event_id"] for c in fake.calls] == [None, 7, 7]


def test_feed_stops_for_good_when_the_token_is_refused() -> None:
    async def go() -> LiveFeed:
        fake = FakeStream([failing(Unauthorized("revoked"))])
        async with LiveFeed(fake, retry_seconds=0.01) as feed:  # type: ignore[arg-type]
            await feed.next(0.05)
            await asyncio.sleep(0.05)
            assert len(fake.calls) == 1
            return feed

    feed = aio.run(go())
    assert isinstance(feed.error, Unauthorized)


def test_feed_without_an_event_route_stays_polling() -> None:
    async def go() -> Batch:
        fake = FakeStream([failing(NotFound("no route"))])
        async with LiveFeed(fake, retry_seconds=10) as feed:  # type: ignore[arg-type]
            return await feed.next(0.05)

    batch = aio.run(go())
    assert not batch.live and batch.events == []


class ScriptedFeed:
    """A feed for follow(): hands out the given batches, then empty ones."""

    def __init__(self, batches: list[Batch], live: bool = True) -> None:
        self.batches, self.live = batches, live
        self.timeouts: list[float] = []

    async def next(self, timeout: float) -> Batch:
        self.timeouts.append(timeout)
        if self.batches:
            return self.batches.pop(0)
        await asyncio.sleep(min(max(timeout, 0), 0.05))
        return Batch(live=self.live)


def test_follow_applies_at_once_refreshes_after_events_and_stops_when_done() -> None:
    log: list[str] = []

    async def apply(batch: Batch) -> bool:
        log.append(f"apply {len(batch.events)}")
        return True

    async def refresh() -> bool:
        log.append("refresh")
        return log.count("refresh") < 2  # the job ends at the second refresh

    async def go() -> None:
        feed = ScriptedFeed([Batch([ev(1)], live=True, resync=True), Batch([ev(2)], live=True)])
        async for _ in follow(
            feed, apply=apply, refresh=refresh, poll_interval=lambda: 2.0, refresh_gap=0.0
        ):  # type: ignore[arg-type]
            pass

    aio.run(asyncio.wait_for(go(), 5))
    assert log == ["apply 1", "refresh", "apply 1", "refresh"]


def test_follow_polls_on_its_interval_while_the_stream_is_down() -> None:
    refreshes: list[float] = []

    async def apply(batch: Batch) -> bool:
        return len(refreshes) < 3

    async def refresh() -> bool:
        refreshes.append(asyncio.get_running_loop().time())
        return True

    async def go() -> None:
        feed = ScriptedFeed([], live=False)
        async for _ in follow(feed, apply=apply, refresh=refresh, poll_interval=lambda: 0.05):  # type: ignore[arg-type]
            pass

    aio.run(asyncio.wait_for(go(), 5))
    assert len(refreshes) == 3
    assert all(b - a >= 0.04 for a, b in itertools.pairwise(refreshes))


def test_follow_stops_when_the_page_is_left() -> None:
    calls = {"apply": 0, "refresh": 0}

    async def apply(batch: Batch) -> bool:
        calls["apply"] += 1
        return False

    async def refresh() -> bool:
        calls["refresh"] += 1
        return True

    async def go() -> None:
        async for _ in follow(
            ScriptedFeed([Batch([ev(1)], live=True)]),
            apply=apply,
            refresh=refresh,
            poll_interval=lambda: 1.0,
        ):  # type: ignore[arg-type]
            pass

    aio.run(asyncio.wait_for(go(), 5))
    assert calls == {"apply": 1, "refresh": 0}


def test_a_ticket_is_current_until_the_next_generation() -> None:
    page = Generation()
    ticket = page
    assert page.current(ticket)
    later = page.next()
    assert not later.current(ticket)  # a fetch made under the old ticket is dropped
    assert later.current(later) and later.next() != later
    assert page == Generation() and page.current(ticket)  # next() makes a new value
    assert pickle.loads(pickle.dumps(later)) == later  # survives the state manager


def test_a_user_action_during_the_watchers_fetch_drops_its_result() -> None:
    """The protocol the pages follow: ticket under the lock, fetch outside it, show if current."""

    @dataclass
    class Page:
        generation: Generation = field(default_factory=Generation)
        query: str = "old"
        shown: list[str] = field(default_factory=list)

    async def go() -> Page:
        page, lock = Page(), asyncio.Lock()
        fetching, answered = asyncio.Event(), asyncio.Event()

        async def watcher() -> None:
            async with lock:
                ticket, query = page.generation, page.query
            fetching.set()
            await answered.wait()  # the fetch is in flight
            async with lock:
                if page.generation.current(ticket):
                    page.shown.append(f"watcher: {query}")

        async def search() -> None:
            await fetching.wait()
            async with lock:
                page.query, page.generation = "new", page.generation.next()
                page.shown.append("user: new")
            answered.set()

        await asyncio.gather(watcher(), search())
        return page

    page = aio.run(asyncio.wait_for(go(), 5))
    assert page.shown == ["user: new"]
