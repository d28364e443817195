"""Formatting of durations, costs, ids and progress for the views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobmonitor.format import (
    DASH,
    cost_text,
    duration_text,
    elapsed,
    iso,
    job_duration,
    progress_text,
    short_id,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, DASH),
        (-1, DASH),
        (0, "0.0s"),
        (2.345, "2.3s"),
        (42, "42s"),
        (130, "2m 10s"),
        (3900, "1h 5m"),
    ],
)
def test_duration_text_is_compact(seconds: float | None, text: str) -> None:
    assert duration_text(seconds) == text


def test_running_duration_counts_to_now() -> None:
    start = datetime(2024, 11, 24, 10, 30, tzinfo=UTC)
    now = start + timedelta(seconds=75)
    assert elapsed(start, None, now) == 75
    assert job_duration(None, start, None, now) == "1m 15s"
    assert job_duration(12.0, start, None, now) == "12s"  # the API's figure wins
    assert job_duration(None, None, None, now) == DASH


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "$0"), (None, "$0"), (0.25, "$0.25"), (0.0031, "$0.0031"), (12.5, "$12.50")],
)
def test_cost_text(amount: float | None, text: str) -> None:
    assert cost_text(amount) == text


def test_progress_shows_the_current_step_while_running() -> None:
    assert progress_text("running", 2, 5) == "Step 3/5"
    assert progress_text("running", 5, 5) == "Step 5/5"
    assert progress_text("completed", 5, 5) == "5/5"
    assert progress_text("pending", 0, 5) == DASH
    assert progress_text("running", 0, 0) == DASH


def test_ids_and_timestamps() -> None:
    assert short_id("123e4567-e89b-12d3-a456-426614174000") == "123e4567"
    assert iso(datetime(2024, 1, 15, 10, 0, tzinfo=UTC)) == "2024-01-15T10:00:00Z"
    assert iso(datetime(2024, 1, 15, 10, 0)) == "2024-01-15T10:00:00Z"
    assert iso(None) == ""
