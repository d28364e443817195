"""The step details panel's decisions: which attempt shows, the log filter, the retry
countdown, and the error text of a cancelled step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apiclient import models as t
from jobmonitor.step_panel import attempt_to_show, countdown_text, filter_logs
from jobmonitor.viewmodels import AttemptRow, LogRow, attempt_rows, shown_error

NOW = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)


def attempts(*numbers: int) -> list[AttemptRow]:
    return [AttemptRow(id=str(n), number=n, status="failed") for n in numbers]


def test_the_current_attempt_is_followed_until_the_user_picks_one() -> None:
    assert attempt_to_show(attempts(1, 2), requested=0, pinned=False) == 2
    assert attempt_to_show(attempts(1, 2, 3), requested=1, pinned=False) == 3  # follows
    assert attempt_to_show(attempts(1, 2, 3), requested=1, pinned=True) == 1  # stays on #1
    assert attempt_to_show(attempts(1, 2), requested=7, pinned=True) == 2  # gone: the latest
    assert attempt_to_show([], requested=0, pinned=False) == 0


def test_attempt_rows_are_ordered_and_mark_the_current_one() -> None:
    raw = [
        t.Attempt(id=f"a{n}", attempt_number=n, status=s, error_message=e)
        for n, s, e in ((2, "running", None), (1, "failed", "boom"))
    ]
    rows = attempt_rows(raw)
    assert [(r.number, r.latest) for r in rows] == [(1, False), (2, True)]
    assert rows[0].error == "boom"


LINES = [
    LogRow(id=1, level="DEBUG", message="connecting"),
    LogRow(id=2, level="INFO", message="Loaded 20 rows"),
    LogRow(id=3, level="WARNING", message="slow source"),
    LogRow(id=4, level="ERROR", message="Row 7 rejected"),
    LogRow(id=5, level="STDOUT", message="print from the step"),  # unknown: ranks as info
]


def test_log_filter_by_minimum_level_and_search() -> None:
    assert [x.id for x in filter_logs(LINES, "", "")] == [1, 2, 3, 4, 5]
    assert [x.id for x in filter_logs(LINES, "info", "")] == [2, 3, 4, 5]
    assert [x.id for x in filter_logs(LINES, "warning", "")] == [3, 4]
    assert [x.id for x in filter_logs(LINES, "error", "")] == [4]
    assert [x.id for x in filter_logs(LINES, "", "ROW")] == [2, 4]  # case-insensitive
    assert [x.id for x in filter_logs(LINES, "error", "rows")] == []
    assert [x.id for x in filter_logs(LINES, "", "  ")] == [1, 2, 3, 4, 5]


def test_countdown_to_the_next_attempt() -> None:
    def iso(seconds: float) -> str:
        return (NOW + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

    assert countdown_text(iso(3.2), NOW) == "in 4 s"
    assert countdown_text(iso(125), NOW) == "in 2 min 5 s"
    assert countdown_text(iso(-1), NOW) == "due now"
    assert countdown_text("", NOW) == ""
    assert countdown_text("not a time", NOW) == ""


def test_a_cancelled_step_does_not_repeat_cancelled_as_its_error() -> None:
    assert shown_error("cancelled", "cancelled") == ""
    assert shown_error("cancelled", "Cancelled") == ""
    assert shown_error("cancelled", "cancelled: superseded by 1a2b") == "superseded by 1a2b"
    assert shown_error("failed", "cancelled") == "cancelled"
    assert shown_error("failed", " boom ") == "boom"
