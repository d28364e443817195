"""How the scheduler starts a job (for a schedule, a trigger, continuous work): in a savepoint,
so a refusal (the workflow's concurrency policy, an input its current version refuses, a
budget) rolls back only this attempt and is returned as its reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from backend.errors import Conflict, InvalidInput, NotFound, RateLimited
from backend.jobs import service as jobs
from backend.jobs.outbox import Outbox

REFUSALS = (Conflict, InvalidInput, NotFound, RateLimited)


@dataclass(frozen=True)
class Started:
    job_id: uuid.UUID | None
    refusal: str | None


def start_job(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    workflow_id: uuid.UUID,
    payload: dict[str, Any],
    outbox: Outbox,
    idempotency_key: str,
) -> Started:
    attempt = Outbox()
    try:
        with conn.transaction():
            created = jobs.create_job(
                conn, workspace_id, workflow_id, payload, attempt, idempotency_key=idempotency_key
            )
    except REFUSALS as exc:
        return Started(None, exc.message)
    outbox.absorb(attempt)
    return Started(created.job_id, None)
