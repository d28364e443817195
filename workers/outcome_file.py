"""How a work horse hands its step's outcome to the forking worker's parent: one JSON file
written atomically, read once the horse has exited."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from backend.jobs.attempts import Failure, Records
from backend.jobs.states import AttemptStatus
from workers.runner import Outcome


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
    partial.write_text(json.dumps(document, default=str))
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
