"""Operator routes behind `jobmonitor doctor` and `jobmonitor prune`: the pre-flight checks of
the run cookbook as one call, and retention of finished jobs (batches of 500, one transaction each)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from backend.audit import record_audit
from backend.doctor import run_checks
from backend.http.deps import Admin, Operator, Principal, api_redis, transaction
from backend.http.responses import errors
from backend.jobs import retention
from backend.runs.schemas import Check, Verdict

router = APIRouter(tags=["operator"])

PRUNE_BATCH = 500
LISTED_IDS = 100
ERRORS = errors()


class DoctorReport(BaseModel):
    verdict: Verdict = Field(description="The worst verdict of the checks.")
    ok: bool = Field(description="No check failed (warnings allowed).")
    checks: list[Check]


class PruneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    older_than: str = Field(
        min_length=2,
        max_length=12,
        description="Age of the finished jobs to delete: 90s, 45m, 12h, 30d, 2w.",
    )
    status: list[str] | None = Field(
        default=None,
        max_length=3,
        description="Finished statuses to prune (default: completed, failed, cancelled).",
    )
    dry_run: bool = Field(default=False, description="Count what would be deleted, delete nothing.")


class PruneResult(BaseModel):
    dry_run: bool
    older_than: str
    statuses: list[str]
    counts: dict[str, int] = Field(
        description="Rows deleted (or that would be) per table; `jobs` first."
    )
    job_ids: list[uuid.UUID] = Field(description=f"The first {LISTED_IDS} job ids.")
    job_ids_truncated: bool


@router.get("/doctor", response_model=DoctorReport, responses=ERRORS)
def doctor(principal: Operator) -> dict[str, Any]:
    """Pre-flight checks: database, migrations, Redis, workers and their queues, queue depth,
    stuck attempts, pending jobs per workflow, failures of the last 24 h by error type.
    A failing check is part of the report (200), not an error."""
    with transaction() as conn:
        checks = run_checks(conn, api_redis(), principal.workspace_id)
    verdicts = {c["verdict"] for c in checks}
    worst = next((v for v in (Verdict.FAIL, Verdict.WARN) if v in verdicts), Verdict.OK)
    return {"verdict": worst, "ok": worst is not Verdict.FAIL, "checks": checks}


@router.post(
    "/jobs/prune",
    response_model=PruneResult,
    responses=errors(invalid="Bad age or a status that is not a finished one"),
)
def prune_jobs(body: PruneRequest, principal: Admin) -> dict[str, Any]:
    """Delete finished jobs older than `older_than` with their steps, attempts, logs, costs,
    metrics and events, in batches of 500 (one transaction each, so locks stay short). Audited
    as one `jobs.prune` entry with the counts, written with the last batch."""
    age = retention.parse_age(body.older_than)
    statuses = retention.check_statuses(body.status)
    totals = dict.fromkeys(("jobs", *retention.RELATED), 0)
    listed: list[uuid.UUID] = []
    after: uuid.UUID | None = None
    while True:
        with transaction() as conn:
            batch = retention.select_batch(
                conn, principal.workspace_id, age, statuses, PRUNE_BATCH, after
            )
            if batch:
                for table, n in retention.count_related(conn, batch).items():
                    totals[table] += n
                if not body.dry_run:
                    retention.delete_jobs(conn, batch)
            last = len(batch) < PRUNE_BATCH
            if last and not body.dry_run:
                _audit(conn, principal, body.older_than, statuses, totals)
        listed += batch[: LISTED_IDS - len(listed)]
        if last:
            break
        after = batch[-1] if body.dry_run else None  # deleted rows are gone: start over
    return {
        "dry_run": body.dry_run,
        "older_than": body.older_than,
        "statuses": statuses,
        "counts": totals,
        "job_ids": listed,
        "job_ids_truncated": totals["jobs"] > len(listed),
    }


def _audit(
    conn: psycopg.Connection[Any],
    principal: Principal,
    older_than: str,
    statuses: list[str],
    counts: dict[str, int],
) -> None:
    record_audit(
        conn,
        principal,
        "jobs.prune",
        "job",
        None,
        None,
        None,
        {"older_than": older_than, "statuses": statuses, "counts": dict(counts)},
    )
