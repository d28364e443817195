"""`jobmonitor run --background`: the job runs on the workers as always; a detached follower
process (its own session, so it survives the terminal closing) writes the job's transitions
and log lines to `logs/workflow_<name>_<YYYYmmdd_HHMMSS>.log` until the job ends, and ends the
file with the outcome. It only writes the file: stopping it stops nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from apiclient.errors import Unavailable, Unreachable
from apiclient.sync import SyncClient
from backend.jobs.statuses import JobStatus
from cli import output
from cli.follow import Ended, JobFeed, Notice, Transition

LOG_DIR = Path("logs")
LOG_POLL_SECONDS = 1.0


def log_path(workflow: str, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in workflow)
    return LOG_DIR / f"workflow_{safe}_{stamp}.log"


def spawn_follower(base_url: str, token: str, job_id: str, path: Path) -> int:
    """Start the detached follower; its pid. The token travels in its environment, not argv."""
    path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "JOBMONITOR_URL": base_url, "JOBMONITOR_TOKEN": token}
    argv = [sys.executable, "-m", "cli.main", "follow-log", job_id, "--log", str(path)]
    with open(path, "a") as sink:
        process = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
        )
    return process.pid


def follow_to_file(api: SyncClient, job_id: str, sink: IO[str]) -> int:
    """Write the job's lines to `sink` until it ends; 0 completed, 1 failed or cancelled."""
    job = api.get_job(job_id)
    _write(
        sink,
        f"# job {job_id}: {job['workflow_name']} v{job.get('workflow_version', '?')} "
        f"(follower pid {os.getpid()})",
    )
    cursor: str | None = None
    last_poll = 0.0
    with JobFeed(api, job_id) as feed:
        while True:
            ended = _drain_feed(feed, sink)
            if ended is not None or time.monotonic() - last_poll >= LOG_POLL_SECONDS:
                try:
                    cursor = _write_logs(api, job_id, cursor, sink)
                except (Unreachable, Unavailable) as exc:  # the server comes back: go on
                    _write(sink, f"{output.clock(datetime.now().astimezone())}  follower: {exc}")
                last_poll = time.monotonic()
            if ended is not None:
                return _outcome(ended.job, sink)


def _drain_feed(feed: JobFeed, sink: IO[str]) -> Ended | None:
    ended = None
    for item in feed.get(0.3):
        if isinstance(item, Exception):
            _write(sink, f"{output.clock(datetime.now().astimezone())}  follower: {item}")
        elif isinstance(item, Notice):
            _write(sink, f"{output.clock(datetime.now().astimezone())}  {item.message}")
        elif isinstance(item, Transition):
            from cli.commands.run import transition_line  # the watcher's line, as plain text

            _write(sink, transition_line(item).plain)
        elif isinstance(item, Ended):
            ended = item
    return ended


def _write_logs(api: SyncClient, job_id: str, cursor: str | None, sink: IO[str]) -> str | None:
    while True:
        page = api.job_logs(job_id, None, cursor)
        for line in page["items"]:
            where = f"{line.get('step_id')}#{line.get('attempt_number') or '?'}"
            _write(
                sink,
                f"{output.clock(line.get('created_at'))}  log  {where:<20} "
                f"{str(line.get('level', 'info')).upper():<7} {line.get('message', '')}",
            )
        cursor = page.get("next_cursor") or cursor
        if not page.get("has_more"):
            return cursor


def _outcome(job: dict[str, Any], sink: IO[str]) -> int:
    took = output.duration(job.get("duration_seconds"))
    status = job["status"]
    line = f"# outcome: job {job['id']} {status} after {took}"
    if job.get("error_message"):
        line += f": {job['error_message']}"
    _write(sink, line)
    return output.OK if status == JobStatus.COMPLETED else output.FAILED


def _write(sink: IO[str], line: str) -> None:
    sink.write(line + "\n")
    sink.flush()
