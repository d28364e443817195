"""Statuses as the monitor shows them: colour, icon and label of every job, step and attempt
status (the monitor's colour scheme), which actions a status allows (`JobAction`), and the
list's filter tabs. The statuses themselves are `backend.jobs.statuses`' enums."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backend.jobs.statuses import (
    JOB_RESUMABLE,
    JOB_TERMINAL,
    AttemptStatus,
    JobStatus,
    StepStatus,
)

S, A = StepStatus, AttemptStatus

JOB_ACTIVE = frozenset(JobStatus) - JOB_TERMINAL
STEP_ACTIVE = frozenset({S.QUEUED, S.RUNNING, S.RETRYING})


@dataclass(frozen=True)
class StatusStyle:
    label: str
    color: str  # a Radix colour scale
    icon: str  # a lucide icon name
    pulse: bool = False


# every job, step and attempt status (the step's cover the job's, plus the attempt's `lost`)
STATUS_STYLES: dict[str, StatusStyle] = {
    S.PENDING: StatusStyle("Pending", "gray", "clock"),
    S.QUEUED: StatusStyle("Queued", "gray", "hourglass"),
    S.WAITING: StatusStyle("Waiting", "violet", "hand"),
    S.RUNNING: StatusStyle("Running", "blue", "loader-circle", pulse=True),
    S.RETRYING: StatusStyle("Retrying", "amber", "rotate-cw", pulse=True),
    S.COMPLETED: StatusStyle("Completed", "green", "circle-check"),
    S.FAILED: StatusStyle("Failed", "red", "circle-x"),
    S.TIMED_OUT: StatusStyle("Timed out", "red", "timer-off"),
    A.LOST: StatusStyle("Lost", "red", "unplug"),
    S.SKIPPED: StatusStyle("Skipped", "gray", "skip-forward"),
    S.CANCELLED: StatusStyle("Cancelled", "orange", "ban"),
}
UNKNOWN_STYLE = StatusStyle("Unknown", "gray", "circle-help")

# the list's filter tabs: (status filter, label); "" means every status, WAITING_TAB the jobs
# with a step waiting for a person (a filter, not a status)
WAITING_TAB = "waiting"
TABS: tuple[tuple[str, str], ...] = (
    ("", "All"),
    *((s.value, STATUS_STYLES[s].label) for s in JobStatus),
    (WAITING_TAB, "Waiting for review"),
)
# a job's draft_state as the monitor shows it ("" for none)
DRAFT_LABELS = {
    "none": "",
    "proposed": "Proposed",
    "in_review": "In review",
    "approved": "Approved",
    "rejected": "Rejected",
    "applied": "Applied",
}
# the list's chip for a job waiting for a person, by what it waits for
WAITING_LABELS = {"review": "Waiting for review", "manual": "Waiting for input"}


class JobAction(StrEnum):
    """What a job's menu items and buttons do. The value is the command the page receives
    (for cancel and delete also the bulk API's action name); `label` is only what they show,
    so rewording a button cannot change what it does."""

    VIEW = "view"
    CANCEL = "cancel"
    RESUME = "resume"
    RERUN = "rerun"
    DELETE = "delete"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    JobAction.VIEW: "View",
    JobAction.CANCEL: "Cancel",
    JobAction.RESUME: "Resume",
    JobAction.RERUN: "Re-run",
    JobAction.DELETE: "Delete",
}


def style(status: str) -> StatusStyle:
    return STATUS_STYLES.get(status, UNKNOWN_STYLE)


def job_actions(status: str) -> list[JobAction]:
    """The row actions a job in `status` allows, in menu order."""
    actions = [JobAction.VIEW]
    if status in JOB_ACTIVE:
        actions.append(JobAction.CANCEL)
    if status in JOB_RESUMABLE:
        actions.append(JobAction.RESUME)
    if status in JOB_TERMINAL:
        actions.append(JobAction.RERUN)
    return actions


def can_delete(status: str) -> bool:
    return status in JOB_TERMINAL


def tab_counts(counts: dict[str, int]) -> dict[str, int]:
    """Per-tab counts from per-status counts (the "All" tab, key "", is their sum)."""
    out = {s.value: int(counts.get(s, 0)) for s in JobStatus}
    out[""] = sum(out.values())
    out[WAITING_TAB] = int(counts.get(WAITING_TAB, 0))
    return out
