"""Step attempt durations for Prometheus (`backend.metrics`), labelled with the workspace and
the workflow's name, which the claim does not carry: looked up once per workflow and process."""

from __future__ import annotations

import uuid
from typing import Any

from backend.db import worker_connection
from backend.jobs.attempts import Claim
from backend.metrics import observe_step
from backend.workflows.queries import metric_labels

_labels: dict[str, tuple[str, str] | None] = {}


def observe(claim: Claim, status: str, seconds: float, events: list[dict[str, Any]]) -> None:
    """Record one attempt's duration; `events` are its outcome's (they name the workflow)."""
    workflow_id = next((str(e["workflow_id"]) for e in events if e.get("workflow_id")), None)
    if workflow_id is None:
        return
    if workflow_id not in _labels:
        _labels[workflow_id] = metric_labels(worker_connection(), uuid.UUID(workflow_id))
    labels = _labels[workflow_id]
    if labels is not None:
        observe_step(labels[0], labels[1], claim.step_key, status, seconds)
