"""One job as one JSON document (job, steps, every attempt, logs, costs, metrics, events), with
secrets redacted (backend.redaction) for everyone: the export leaves the system."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from backend.events import json_default
from backend.jobs import queries
from backend.redaction import redact

FORMAT = "jobmonitor.job-export/1"


def export_job(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, job_id: uuid.UUID
) -> dict[str, Any]:
    """Everything recorded about one job, redacted (NotFound for another workspace's job)."""
    job = dataclasses.asdict(queries.get_job(conn, job_id, workspace_id=workspace_id))
    del job["workflow_version_id"]  # the document names the version by number
    document: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": datetime.now(UTC),
        "job": job,
        "steps": [
            {**dataclasses.asdict(s), "step_id": s.step_id, "retry_count": s.retry_count}
            for s in queries.list_steps(conn, workspace_id, job_id)
        ],
        **queries.job_records(conn, job_id),
    }
    return redact(document)  # type: ignore[no-any-return]


def dumps(document: dict[str, Any]) -> bytes:
    return json.dumps(document, default=json_default, indent=2).encode()
