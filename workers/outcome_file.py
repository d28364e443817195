"""How a work horse hands its step's outcome to the forking worker's parent: one JSON file
written atomically (readable by its owner only), read once the horse has exited.

The files live in /dev/shm (memory) and are named after the worker that reads them
(`jobmonitor-outcome.<worker pid>.<attempt id>.json`): a worker starting up removes the files
that a worker that is gone left behind (killed between the horse's write and its own read),
and never those of a live worker on the same host."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from backend.jobs.attempts import Failure, Records
from backend.jobs.states import AttemptStatus
from workers.runner import Outcome

SCRATCH = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
PREFIX = "jobmonitor-outcome."
OLD_FORMAT_AGE = 3600  # seconds: `jobmonitor-<attempt>.json` files of earlier versions


def path_for(attempt_id: object) -> Path:
    return SCRATCH / f"{PREFIX}{os.getpid()}.{attempt_id}.json"


def remove_leftovers(directory: Path = SCRATCH) -> list[Path]:
    """Delete outcome files of workers that no longer run (and old-format ones older than an
    hour); returns what was deleted."""
    removed = []
    for path in directory.glob("jobmonitor-*"):
        if path.name.startswith(PREFIX):
            pid = path.name[len(PREFIX) :].split(".", 1)[0]
            stale = pid.isdigit() and not _alive(int(pid))
        else:
            stale = _age(path) > OLD_FORMAT_AGE
        if stale:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def write(path: Path, outcome: Outcome) -> None:
    document: dict[str, Any] = {
        "output": outcome.output,
        "interrupted": outcome.interrupted,
        "claim_events_sent": outcome.claim_events_sent,
        "failure": None
        if outcome.failure is None
        else {
            "status": str(outcome.failure.status),
            "error_type": outcome.failure.error_type,
            "message": outcome.failure.message,
            "traceback": outcome.failure.traceback,
        },
        "logs": outcome.records.logs,
        "costs": outcome.records.costs,
        "metrics": outcome.records.metrics,
    }
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(document, default=str))
    os.replace(partial, path)


def read(path: Path) -> Outcome | None:
    """The outcome, or None when the horse died before writing one."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    finally:
        path.unlink(missing_ok=True)
    failure = document["failure"]
    return Outcome(
        output=document["output"],
        interrupted=document["interrupted"],
        failure=None
        if failure is None
        else Failure(AttemptStatus(failure.pop("status")), **failure),
        records=Records(
            logs=[tuple(line) for line in document["logs"]],  # type: ignore[misc]
            costs=document["costs"],
            metrics=[tuple(m) for m in document["metrics"]],  # type: ignore[misc]
        ),
        claim_events_sent=document["claim_events_sent"],
    )
