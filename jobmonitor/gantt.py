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
