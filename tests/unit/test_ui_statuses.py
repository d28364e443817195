"""Every status the engine can report has a chip style, and actions follow the status."""

from __future__ import annotations

import pytest

from backend.jobs.statuses import AttemptStatus, JobStatus, StepStatus
from jobmonitor.components.status_badge import status_badge, status_color, status_icon
from jobmonitor.statuses import (
    STATUS_STYLES,
    TABS,
    JobAction,
    can_delete,
    job_actions,
    style,
    tab_counts,
)


@pytest.mark.parametrize("status", [*JobStatus, *StepStatus, *AttemptStatus])
def test_every_engine_status_has_a_style(status: str) -> None:
    assert status in STATUS_STYLES
    assert style(status).label


def test_job_status_colours() -> None:
    colours = {s: STATUS_STYLES[s].color for s in JobStatus}
    assert colours == {
        "pending": "gray",
        "running": "blue",
        "completed": "green",
        "failed": "red",
        "cancelled": "orange",
    }
    assert STATUS_STYLES["running"].pulse
    assert not STATUS_STYLES["completed"].pulse


@pytest.mark.parametrize("render", [status_badge, status_icon, status_color])
def test_the_badge_matches_every_status(render: object) -> None:
    code = str(render("running"))  # type: ignore[operator]
    for status in STATUS_STYLES:
        assert f'"{status}"' in code


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        ("pending", ["View", "Cancel"]),
        ("running", ["View", "Cancel"]),
        ("completed", ["View", "Re-run"]),
        ("failed", ["View", "Resume", "Re-run"]),
        ("cancelled", ["View", "Resume", "Re-run"]),
    ],
)
def test_actions_the_status_allows(status: str, actions: list[str]) -> None:
    assert labels(job_actions(status)) == actions
    assert can_delete(status) == (status in ("completed", "failed", "cancelled"))


def labels(actions: list[JobAction]) -> list[str]:
    return [a.label for a in actions]


def test_an_actions_label_is_not_its_command() -> None:
    assert [(a.value, a.label) for a in JobAction] == [
        ("view", "View"),
        ("cancel", "Cancel"),
        ("resume", "Resume"),
        ("rerun", "Re-run"),
        ("delete", "Delete"),
    ]


def test_tabs_and_counts() -> None:
    assert [label for _, label in TABS] == [
        "All",
        "Pending",
        "Running",
        "Completed",
        "Failed",
        "Cancelled",
        "Waiting for review",
    ]
    counts = tab_counts({"running": 2, "failed": 1, "weird": 7, "waiting": 1})
    assert counts[""] == 3 and counts["waiting"] == 1  # a filter, not a status of its own
    assert counts["pending"] == 0
