"""Output of the client commands: rich tables for people, `--json` for scripts, and the exit
codes every command shares:

    0  ok
    1  the job failed (or was cancelled), or a check failed
    2  usage or input error: bad option, unknown job or workflow, refused request (4xx)
    3  cannot reach the server, or it answered 5xx (e.g. its database is down)

Results go to stdout; messages, hints and progress to stderr, so `--json` output stays clean.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NoReturn

import typer
from rich import box
from rich.console import Console, ConsoleDimensions
from rich.text import Text

from apiclient.errors import (
    ApiError,
    Conflict,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    Unreachable,
)
from apiclient.format import DASH, cost_text, duration_text
from backend.jobs.statuses import AttemptStatus, StepStatus
from cli.client import NoToken
from cli.profile import ProfileError

OK, FAILED, USAGE, UNREACHABLE = 0, 1, 2, 3

PIPED_WIDTH = 10_000  # a pipe or a file has no width: nothing in a table is cut


class _Results(Console):
    """stdout: a terminal's width when it is one; when piped or redirected, no width limit
    (rich would otherwise take the terminal's, or 80 columns, and cut ids)."""

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        return size if self.is_terminal else ConsoleDimensions(PIPED_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


out = _Results(soft_wrap=False)
err = Console(stderr=True, soft_wrap=True)

S, A = StepStatus, AttemptStatus
# every job, step and attempt status (the step's cover the job's), and doctor's verdicts
STATUS_STYLES: dict[str, str] = {
    S.PENDING: "dim",
    S.QUEUED: "cyan",
    S.WAITING: "bold magenta",
    S.RUNNING: "bold blue",
    S.RETRYING: "yellow",
    S.COMPLETED: "green",
    S.FAILED: "bold red",
    S.TIMED_OUT: "red",
    A.LOST: "red",
    S.SKIPPED: "dim",
    S.CANCELLED: "magenta",
    "ok": "green",
    "warn": "yellow",
    "fail": "bold red",
}


def table_box() -> box.Box | None:
    """Ruled tables for a terminal; a plain layout (columns, no rules) for pipes and files."""
    return box.SIMPLE_HEAD if out.is_terminal else None


def print_json(data: Any) -> None:
    """JSON on stdout, unstyled (pipes into jq)."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_json_line(data: Any) -> None:
    """One compact JSON object per line (streams: watch, logs --follow)."""
    sys.stdout.write(
        json.dumps(data, default=str, separators=(",", ":"), ensure_ascii=False) + "\n"
    )
    sys.stdout.flush()


def fail(message: str, *hints: str, code: int = USAGE) -> NoReturn:
    """Say what is wrong and what to do, then exit with `code`."""
    err.print(Text(f"error: {message}", style="red"))
    for hint in hints:
        err.print(Text(f"  {hint}", style="dim"))
    raise typer.Exit(code)


@contextlib.contextmanager
def api_errors(hints: dict[str, str] | None = None) -> Iterator[None]:
    """Turn API errors into a message, its details and hints, and the matching exit code.
    `hints` adds a command's own advice per error code (e.g. "concurrency_limited")."""
    try:
        yield
    except NoToken as exc:
        fail(
            f"no API token for {exc.args[0]}",
            "pass --token, set JOBMONITOR_TOKEN, or run `jobmonitor login --url URL`",
        )
    except ProfileError as exc:
        fail(str(exc))
    except ApiError as exc:
        extra = [(hints or {}).get(exc.code, "")]
        fail(
            exc.message,
            *details_lines(exc.details),
            *[h for h in [*extra, *_hints(exc)] if h],
            code=exit_code(exc),
        )


def exit_code(exc: ApiError) -> int:
    if isinstance(exc, Unavailable) or exc.status >= 500:
        return UNREACHABLE
    return USAGE


def details_lines(details: Any) -> list[str]:
    """An error's details as lines: every `{"loc", "msg"}` problem with its path, suggestions."""
    lines: list[str] = []
    if isinstance(details, list):
        for problem in details:
            if isinstance(problem, dict) and "msg" in problem:
                lines.append(f"{path_text(problem.get('loc', []))}: {problem['msg']}")
    elif isinstance(details, dict):
        for key, value in details.items():
            if key == "suggestions":
                lines += ["did you mean: " + ", ".join(map(str, value)) + "?"] if value else []
            elif value not in (None, "", [], {}):
                lines.append(
                    f"{key.replace('_', ' ')}: {', '.join(map(str, value)) if isinstance(value, list) else compact(value)}"
                )
    return lines


def path_text(loc: Any) -> str:
    """["steps", 2, "depends_on", 0] -> "steps[2].depends_on[0]"; [] -> "(document)"."""
    text = ""
    for part in loc if isinstance(loc, list | tuple) else [loc]:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _hints(exc: ApiError) -> list[str]:
    if isinstance(exc, Unreachable):
        return [
            "is the server running (`jobmonitor up`)? check --url / JOBMONITOR_URL or your login profile"
        ]
    if isinstance(exc, Unauthorized):
        return ["check --token / JOBMONITOR_TOKEN, or run `jobmonitor login` with a valid token"]
    if exc.status == 403:
        return [
            "ask an admin for a token with that role (`jobmonitor token create --role ...` on the server)"
        ]
    if isinstance(exc, NotFound) and "workflow" in exc.message:
        return ["list the workflows with `jobmonitor workflows`"]
    if isinstance(exc, NotFound) and "job" in exc.message:
        return ["list the jobs with `jobmonitor jobs`"]
    if isinstance(exc, RateLimited | Conflict):
        return []
    if exc.status >= 500:
        return [
            "the server is up but cannot serve this now; retry later or run `jobmonitor doctor`"
        ]
    return []


# --- cells ------------------------------------------------------------------------------------


def status_text(status: str | None) -> Text:
    if not status:
        return Text(DASH, style="dim")
    return Text(status, style=STATUS_STYLES.get(status, ""))


def when(value: str | datetime | None) -> str:
    """An API timestamp in local time, to the second ("2026-01-31 14:02:11")."""
    moment = parse_time(value)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else DASH


def clock(value: str | datetime | None) -> str:
    """Local time of day with milliseconds, for event lines."""
    moment = parse_time(value)
    return moment.astimezone().strftime("%H:%M:%S.%f")[:-3] if moment else " " * 12


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def duration(seconds: float | None) -> str:
    return duration_text(seconds)


def cost(amount: float | None) -> str:
    return cost_text(amount)


def progress_bar(fraction: float | None, width: int = 12) -> str:
    value = min(max(float(fraction or 0.0), 0.0), 1.0)
    filled = round(value * width)
    return "█" * filled + "░" * (width - filled) + f" {value * 100:3.0f}%"


def compact(value: Any, limit: int = 80) -> str:
    """A JSON value on one line, cut at `limit` characters."""
    text = (
        value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"
