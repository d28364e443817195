"""What the job page's step details panel decides, as pure functions: which attempt to show
(the current one, followed live, unless the user picked one) and the log filter (minimum
level and a search over the attempt's lines).

`LogView` is the page state's mixin that holds the log filter and the follow/pause switch;
the attempt logic stays in the page's state, which owns the fetches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import reflex as rx

from jobmonitor.viewmodels import AttemptRow, LogRow

LOG_LEVELS = ("debug", "info", "warning", "error")  # the API's levels, lowest first
LEVEL_CHOICES = {  # the select's label -> the minimum level ("" = every line)
    "All levels": "",
    "Info and above": "info",
    "Warnings and errors": "warning",
    "Errors only": "error",
}


def level_rank(level: str) -> int:
    """A level's place in LOG_LEVELS; an unknown level (a custom one) ranks as info."""
    name = level.lower()
    return LOG_LEVELS.index(name) if name in LOG_LEVELS else LOG_LEVELS.index("info")


def filter_logs(lines: Sequence[LogRow], min_level: str, query: str) -> list[LogRow]:
    """The lines at `min_level` or above ("" = all) whose message or level contains `query`
    (case-insensitive; blank = all)."""
    floor = level_rank(min_level) if min_level else 0
    needle = query.strip().lower()
    return [
        line
        for line in lines
        if level_rank(line.level) >= floor
        and (not needle or needle in line.message.lower() or needle == line.level.lower())
    ]


def attempt_to_show(attempts: Sequence[AttemptRow], requested: int, pinned: bool) -> int:
    """The attempt whose logs, error and output the panel shows: the one the user picked
    while it exists, else the latest (0 when the step has none yet)."""
    latest = max((a.number for a in attempts), default=0)
    if pinned and any(a.number == requested for a in attempts):
        return requested
    return latest


def countdown_text(next_at: str, now: datetime) -> str:
    """ "in 4 s", "in 2 min 5 s" until `next_at` (ISO), "due now" once it has passed, "" with
    no time. The API takes the time from the database clock, which is this host's or close."""
    if not next_at:
        return ""
    try:
        due = datetime.fromisoformat(next_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = math.ceil((due - now).total_seconds())
    if seconds <= 0:
        return "due now"
    minutes, rest = divmod(seconds, 60)
    return f"in {minutes} min {rest} s" if minutes else f"in {rest} s"


class LogView(rx.State, mixin=True):
    """The step panel's log controls: minimum level, search, follow (live) or paused (the
    lines shown are frozen at the last one seen when Pause was pressed)."""

    logs: list[LogRow] = []  # the shown attempt's lines, as fetched
    log_level: str = ""  # minimum level, "" = all
    log_query: str = ""
    log_paused_at: int = 0  # the last line id shown when paused; 0 = following

    @rx.event
    def set_log_level_label(self, label: str) -> None:
        self.log_level = LEVEL_CHOICES.get(label, "")

    @rx.event
    def set_log_query(self, query: str) -> None:
        self.log_query = query[:200]

    @rx.event
    def pause_logs(self) -> None:
        self.log_paused_at = max((line.id for line in self.logs), default=0) or -1

    @rx.event
    def follow_logs(self) -> None:
        self.log_paused_at = 0

    def reset_log_view(self) -> None:
        """Another step or attempt: follow its lines from the start (the filter stays)."""
        self.log_paused_at = 0

    @rx.var
    def log_level_label(self) -> str:
        return next((k for k, v in LEVEL_CHOICES.items() if v == self.log_level), "All levels")

    @rx.var
    def shown_logs(self) -> list[LogRow]:
        lines = self.logs
        if self.log_paused_at:
            lines = [line for line in lines if line.id <= self.log_paused_at]
        return filter_logs(lines, self.log_level, self.log_query)

    @rx.var
    def held_log_lines(self) -> int:
        """Lines that arrived while paused (shown when following again)."""
        if not self.log_paused_at:
            return 0
        return sum(1 for line in self.logs if line.id > self.log_paused_at)
