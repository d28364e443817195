"""Formatting of running durations, ids, progress and timestamps for the views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apiclient.format import DASH
from jobmonitor.format import elapsed, iso, job_duration, progress_text, short_id


def test_running_duration_counts_to_now() -> None:
    start = datetime(2024, 11, 24, 10, 30, tzinfo=UTC)
    now = start + timedelta(seconds=75)
    assert elapsed(start, None, now) == 75
    assert job_duration(None, start, None, now) == "1m 15s"
    assert job_duration(12.0, start, None, now) == "12s"  # the API's figure wins
    assert job_duration(None, None, None, now) == DASH


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
