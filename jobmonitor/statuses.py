"""Statuses as the monitor shows them: colour, icon and label of every job, step and attempt
status, which actions a status allows (`JobAction`), and the list's filter tabs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

JOB_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
STEP_STATUSES = (
    "pending",
    "queued",
    "running",
    "retrying",
    "completed",
    "failed",
    "timed_out",
    "skipped",
    "cancelled",
)
ATTEMPT_STATUSES = ("queued", "running", "completed", "failed", "timed_out", "lost", "cancelled")

JOB_TERMINAL = frozenset({"completed", "failed", "cancelled"})
JOB_ACTIVE = frozenset({"pending", "running"})
STEP_TERMINAL = frozenset({"completed", "failed", "timed_out", "skipped", "cancelled"})
STEP_ACTIVE = frozenset({"queued", "running", "retrying"})


@dataclass(frozen=True)
class StatusStyle:
    label: str
    color: str  # a Radix colour scale
    icon: str  # a lucide icon name
    pulse: bool = False


STATUS_STYLES: dict[str, StatusStyle] = {
    "pending": StatusStyle("Pending", "gray", "clock"),
    "queued": StatusStyle("Queued", "gray", "hourglass"),
    "running": StatusStyle("Running", "blue", "loader-circle", pulse=True),
    "retrying": StatusStyle("Retrying", "amber", "rotate-cw", pulse=True),
    "completed": StatusStyle("Completed", "green", "circle-check"),
    "failed": StatusStyle("Failed", "red", "circle-x"),
    "timed_out": StatusStyle("Timed out", "red", "timer-off"),
    "lost": StatusStyle("Lost", "red", "unplug"),
    "skipped": StatusStyle("Skipped", "gray", "skip-forward"),
    "cancelled": StatusStyle("Cancelled", "orange", "ban"),
}
UNKNOWN_STYLE = StatusStyle("Unknown", "gray", "circle-help")

# the list's filter tabs: (status filter, label); "" means every status
TABS: tuple[tuple[str, str], ...] = (
    ("", "All"),
    *((s, STATUS_STYLES[s].label) for s in JOB_STATUSES),
)


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
    if status in ("failed", "cancelled"):
        actions.append(JobAction.RESUME)
    if status in JOB_TERMINAL:
        actions.append(JobAction.RERUN)
    return actions


def can_delete(status: str) -> bool:
    return status in JOB_TERMINAL


def tab_counts(counts: dict[str, int]) -> dict[str, int]:
    """Per-tab counts from per-status counts (the "All" tab, key "", is their sum)."""
    out = {s: int(counts.get(s, 0)) for s in JOB_STATUSES}
    out[""] = sum(out.values())
    return out
