"""The Gantt tab's geometry (jobmonitor.gantt) and the event history's wording
(jobmonitor.history_rows): attempts as separate segments with backoff gaps, the wait for a
retrying step's next attempt, zoom to the running part, and what each event says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apiclient import models as t
from jobmonitor import gantt
from jobmonitor.history_rows import event_row, gantt_view

T0 = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def attempt(n: int, status: str, start: float, end: float | None, **kw: object) -> t.GanttAttempt:
    return t.GanttAttempt(
        attempt_number=n,
        status=status,
        started_at=at(start),
        finished_at=None if end is None else at(end),
        worker_name=kw.get("worker", "w1"),
        pid=kw.get("pid", 42),
        error_type=kw.get("error_type"),
        error_message=kw.get("error"),
    )


def step(key: str, index: int, status: str, *attempts: t.GanttAttempt, **kw: object) -> t.GanttStep:
    return t.GanttStep(
        step_key=key,
        name=key.title(),
        step_index=index,
        status=status,
        attempts=list(attempts),
        next_attempt_at=kw.get("next_attempt_at"),
    )


def test_each_attempt_is_a_segment_with_the_backoff_between() -> None:
    data = t.JobAttempts(
        now=at(10),
        steps=[
            step(
                "flaky",
                1,
                "completed",
                attempt(1, "failed", 0, 1, error_type="RuntimeError", error="boom"),
                attempt(2, "failed", 3, 4),
                attempt(3, "completed", 6, 10),
            )
        ],
    )
    (row,) = gantt_view(data, zoom=False).rows
    kinds = [(s.kind, s.attempt) for s in row.segments]
    assert kinds == [
        ("attempt", 1),
        ("backoff", 2),
        ("attempt", 2),
        ("backoff", 3),
        ("attempt", 3),
    ]
    first, gap = row.segments[0], row.segments[1]
    assert (first.left, first.width) == (0.0, 10.0) and first.color == "red"
    assert (gap.left, gap.width) == (10.0, 20.0)
    assert row.segments[4].color == "green" and row.segments[4].left + row.segments[4].width == 100
    assert first.label.startswith(
        "Attempt 1: failed · 1.0s · started 10:00:00.0 UTC (+0.0s) · ended 10:00:01.0 UTC"
    )
    assert "worker w1 (pid 42)" in first.label and "RuntimeError: boom" in first.label
    assert gap.label.startswith("Backoff 2.0s before attempt 2")


def test_a_retrying_step_shows_its_wait_for_the_next_attempt() -> None:
    data = t.JobAttempts(
        now=at(2),
        steps=[step("s", 1, "retrying", attempt(1, "failed", 0, 1), next_attempt_at=at(5))],
    )
    view = gantt_view(data, zoom=False)
    wait = view.rows[0].segments[-1]
    assert wait.kind == "scheduled" and wait.attempt == 2
    assert (wait.left, wait.width) == (20.0, 80.0)  # the axis reaches the next attempt
    assert wait.label == "Next attempt (2) at 10:00:05.0 UTC (in 3.0s)"
    assert view.ticks[0] == "0s" and view.ticks[-1] == "+5.0s"


def test_a_running_attempt_grows_to_now() -> None:
    lane = gantt.Lane("s", "S", "running", (gantt.Try(1, "running", at(0), None),))
    window = gantt.whole([lane], at(4))
    assert window is not None
    (seg,) = gantt.segments(window, lane, at(4))
    assert (seg.left, seg.width) == (0.0, 100.0) and "still running" in seg.label


def test_zoom_shows_the_running_part_of_a_long_job() -> None:
    data = t.JobAttempts(
        now=at(1000),
        steps=[
            step("early", 1, "completed", attempt(1, "completed", 0, 900)),
            step("late", 2, "running", attempt(1, "running", 900, None)),
        ],
    )
    whole = gantt_view(data, zoom=False)
    assert whole.can_zoom and not whole.zoomed and whole.ticks[0] == "0s"
    zoomed = gantt_view(data, zoom=True)
    assert zoomed.zoomed and zoomed.ticks[0] == "+14m 55s"  # 5 % of the running part before it
    late = zoomed.rows[1].segments[0]
    assert late.left > 4 and late.left + late.width == 100  # most of the width, not 10 %
    early = zoomed.rows[0].segments[0]
    assert early.left == 0 and early.width < 5  # only its end shows


def test_no_zoom_when_nothing_runs_or_it_would_change_little() -> None:
    done = t.JobAttempts(
        now=at(10), steps=[step("a", 1, "completed", attempt(1, "completed", 0, 9))]
    )
    assert not gantt_view(done, zoom=True).can_zoom
    young = t.JobAttempts(
        now=at(10), steps=[step("a", 1, "running", attempt(1, "running", 1, None))]
    )
    assert not gantt_view(young, zoom=True).zoomed
    empty = t.JobAttempts(now=at(1), steps=[step("a", 1, "pending")])
    assert gantt_view(empty, zoom=False).ticks == []


def event(type_: str, **kw: object) -> t.HistoryEvent:
    return t.HistoryEvent(id=1, type=type_, created_at=at(kw.pop("after", 1)), **kw)  # type: ignore[arg-type]


def test_events_say_what_happened_and_who_asked() -> None:
    cancel = event_row(
        event("cancelled", actor="token:ops (jm_1)", data={"reason": "cancelled"}), T0
    )
    assert (cancel.title, cancel.actor, cancel.detail, cancel.tone) == (
        "Job cancelled",
        "token:ops (jm_1)",
        "",
        "orange",
    )
    failed = event_row(
        event("step_failed", step_key="s", attempt=2, data={"error": "boom", "will_retry": True}),
        T0,
    )
    assert (failed.title, failed.detail, failed.offset) == (
        "Attempt 2 failed, will retry",
        "boom",
        "+1.0s",
    )
    retry = event_row(event("retrying", data={"retry_in_seconds": 4}), T0)
    assert retry.title == "Retrying in 4.0s"
    rerun = event_row(
        event("job_rerun", data={"new_job_id": "abcdef12-0000", "from_step": "load"}), T0
    )
    assert rerun.title == "Re-run from step load" and rerun.link == "/jobs/abcdef12-0000"
    started = event_row(event("step_started", attempt=1, data={"worker": "vm.1"}), T0)
    assert (started.title, started.detail) == ("Attempt 1 started", "on vm.1")
    assert event_row(event("something_new"), T0).title == "Something new"
