"""Geometry of the step timeline's Gantt bars: every step on one time axis, as percentages
of the job's span (from the first start to the last end, or now while running)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from apiclient.format import duration_text

MIN_WIDTH = 0.8  # percent: an instant step stays visible


@dataclass(frozen=True)
class Span:
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Bar:
    left: float  # percent of the axis
    width: float  # percent of the axis; 0 when the step never started
    visible: bool


def axis(spans: list[Span], now: datetime) -> tuple[datetime, float] | None:
    """The axis origin and length in seconds, or None when no step has started."""
    starts = [s.start for s in spans if s.start is not None]
    if not starts:
        return None
    origin = min(starts)
    ends = [s.end or now for s in spans if s.start is not None]
    length = max((e - origin).total_seconds() for e in ends)
    return origin, max(length, 0.001)


def bars(spans: list[Span], now: datetime) -> list[Bar]:
    """One bar per span, in order; a running step extends to `now`."""
    frame = axis(spans, now)
    if frame is None:
        return [Bar(0.0, 0.0, False) for _ in spans]
    origin, length = frame
    out = []
    for s in spans:
        if s.start is None:
            out.append(Bar(0.0, 0.0, False))
            continue
        left = (s.start - origin).total_seconds() / length * 100
        width = ((s.end or now) - s.start).total_seconds() / length * 100
        left = min(max(left, 0.0), 100.0 - MIN_WIDTH)
        out.append(Bar(round(left, 3), round(min(max(width, MIN_WIDTH), 100.0 - left), 3), True))
    return out


def ticks(length_seconds: float, count: int = 4) -> list[str]:
    """Labels for `count + 1` evenly spaced ticks from 0 to the axis length."""
    return [duration_text(length_seconds * i / count) if i else "0s" for i in range(count + 1)]


# --- the Gantt tab: every attempt of every step as its own segment ------------------------------

ACTIVE = frozenset({"running", "retrying", "queued"})
ZOOM_MARGIN = 0.05  # of the running part's length, shown before it for context


@dataclass(frozen=True)
class Try:
    """One attempt's times and outcome."""

    number: int
    status: str
    start: datetime | None
    end: datetime | None
    worker: str | None = None
    pid: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Lane:
    """One step with its attempts, in attempt order."""

    key: str
    name: str
    status: str
    tries: tuple[Try, ...]
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Segment:
    """A piece of a lane: an attempt, the backoff between two, or the wait before the next."""

    kind: str  # attempt | backoff | scheduled
    attempt: int  # the attempt it is, or the one it leads to
    status: str
    left: float  # percent of the window
    width: float
    label: str  # the hover text


@dataclass(frozen=True)
class Window:
    origin: datetime  # the job's first start: offsets are counted from here
    start: datetime  # what the chart shows: [start, end]
    end: datetime

    @property
    def length(self) -> float:
        return max((self.end - self.start).total_seconds(), 0.001)


def _end(t: Try, now: datetime) -> datetime | None:
    if t.start is None:
        return None
    return t.end or (now if t.status == "running" else t.start)


def whole(lanes: list[Lane], now: datetime) -> Window | None:
    """From the first attempt's start to the last end (now while running, or a retrying
    step's next attempt); None before anything started."""
    starts = [t.start for lane in lanes for t in lane.tries if t.start is not None]
    if not starts:
        return None
    ends = [e for lane in lanes for t in lane.tries if (e := _end(t, now)) is not None]
    ends += [lane.next_attempt_at for lane in lanes if lane.next_attempt_at and _scheduled(lane)]
    origin = min(starts)
    return Window(origin, origin, max([*ends, origin]))


def _scheduled(lane: Lane) -> bool:
    return lane.status == "retrying" and lane.next_attempt_at is not None


def running_since(lane: Lane, now: datetime) -> datetime | None:
    """Where an active step's current part begins: its running attempt's start, the end of
    the attempt it waits to retry, or now for a queued step; None for a finished step."""
    if lane.status not in ACTIVE:
        return None
    last = lane.tries[-1] if lane.tries else None
    if last is None or last.start is None:
        return now
    if last.status == "running" or last.end is None:
        return last.start
    return last.end


def zoomed(lanes: list[Lane], now: datetime) -> Window | None:
    """The running part: from the earliest start of what is active (with a small margin of
    what came before) to the end; None when nothing runs or it is most of the run already."""
    full = whole(lanes, now)
    starts = [s for lane in lanes if (s := running_since(lane, now)) is not None]
    if full is None or not starts:
        return None
    begin = max(min(starts), full.origin)
    if (begin - full.origin).total_seconds() < 0.25 * full.length:
        return None  # zooming would change little
    margin = (full.end - begin) * ZOOM_MARGIN
    return Window(full.origin, max(begin - margin, full.origin), full.end)


def _place(w: Window, start: datetime, end: datetime) -> tuple[float, float] | None:
    """Left and width (percent) of [start, end] clipped to the window; None when outside."""
    if end < w.start or start > w.end:
        return None
    left = (max(start, w.start) - w.start).total_seconds() / w.length * 100
    width = (min(end, w.end) - max(start, w.start)).total_seconds() / w.length * 100
    left = min(max(left, 0.0), 100.0 - MIN_WIDTH)
    return round(left, 3), round(min(max(width, MIN_WIDTH), 100.0 - left), 3)


def clock(moment: datetime) -> str:
    """10:01:02.3 UTC: the hover's times (the server cannot know the browser's zone)."""
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 100_000} UTC"


def _offset(w: Window, moment: datetime) -> str:
    return "+" + duration_text((moment - w.origin).total_seconds())


def attempt_label(w: Window, t: Try, now: datetime) -> str:
    end = _end(t, now)
    assert t.start is not None and end is not None
    parts = [
        f"Attempt {t.number}: {t.status}",
        f"{duration_text((end - t.start).total_seconds())}",
        f"started {clock(t.start)} ({_offset(w, t.start)})",
        "still running" if t.end is None else f"ended {clock(t.end)}",
    ]
    if t.worker:
        parts.append(f"worker {t.worker}" + (f" (pid {t.pid})" if t.pid else ""))
    if t.error:
        parts.append(t.error[:200])
    return " · ".join(parts)


def segments(w: Window, lane: Lane, now: datetime) -> list[Segment]:
    """The lane's attempts in order with the backoff gaps between them, and a retrying step's
    wait until its next attempt; what falls outside the window is left out."""
    out: list[Segment] = []
    previous: Try | None = None
    for t in lane.tries:
        end = _end(t, now)
        if previous is not None and previous.end is not None and t.start is not None:
            gap = (t.start - previous.end).total_seconds()
            spot = _place(w, previous.end, t.start)
            if spot is not None and gap > 0:
                label = (
                    f"Backoff {duration_text(gap)} before attempt {t.number}"
                    f" (attempt {previous.number} ended {clock(previous.end)},"
                    f" attempt {t.number} started {clock(t.start)})"
                )
                out.append(Segment("backoff", t.number, "retrying", *spot, label))
        if t.start is not None and end is not None:
            spot = _place(w, t.start, end)
            if spot is not None:
                out.append(Segment("attempt", t.number, t.status, *spot, attempt_label(w, t, now)))
        previous = t
    last = lane.tries[-1] if lane.tries else None
    if _scheduled(lane) and last is not None and last.end is not None:
        due = lane.next_attempt_at
        assert due is not None
        spot = _place(w, last.end, max(due, last.end))
        if spot is not None:
            wait = (due - now).total_seconds()
            when = f"in {duration_text(wait)}" if wait > 0 else "due now"
            label = f"Next attempt ({last.number + 1}) at {clock(due)} ({when})"
            out.append(Segment("scheduled", last.number + 1, "retrying", *spot, label))
    return out


def window_ticks(w: Window, count: int = 4) -> list[str]:
    """Tick labels across the window, as offsets from the job's first start."""
    first = (w.start - w.origin).total_seconds()
    return [
        "+" + duration_text(first + w.length * i / count) if first or i else "0s"
        for i in range(count + 1)
    ]
