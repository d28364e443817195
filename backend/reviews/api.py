"""Human steps under /api/v1: execute a manual step, and any review gate's review (read,
decide in bulk, patch an item, submit). Seed 000's routes (backend/api/workflow_runbook.py)
call the same functions."""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Path, Query, Response
from fastapi import status as http

from backend.errors import NotFound
from backend.http.deps import Operator, Principal, Viewer, disclose, flush, transaction
from backend.http.responses import errors
from backend.jobs import manual, queries
from backend.jobs.api import NOT_FOUND, IdempotencyKeyHeader, one_idempotency_key
from backend.jobs.outbox import Outbox
from backend.jobs.rows import HumanStep
from backend.jobs.states import record_event
from backend.reviews import queries as review_queries
from backend.reviews import service
from backend.reviews.rows import ReviewItemRow, ReviewRow
from backend.reviews.schemas import (
    DecideRequest,
    DecideResponse,
    ExecuteStepRequest,
    ExecuteStepResponse,
    PatchItemRequest,
    PatchResponse,
    ReviewPage,
    SubmitRequest,
)
from backend.reviews.schemas import Review as ReviewModel

router = APIRouter(prefix="/jobs", tags=["human steps"])

CONFLICT = errors(
    not_found=NOT_FOUND,
    conflict="The job or step does not allow this now (the reason says why), or the "
    "idempotency key was used with another payload",
    invalid="The payload or the patch does not match its schema (every field listed)",
)
StepKey = Annotated[str, Path(min_length=1, max_length=100, description="The step's key")]
GateKey = Annotated[
    str | None,
    Query(min_length=1, max_length=100, description="The gate's key (default: the open review)"),
]
Wait = Annotated[
    float, Query(ge=0, le=300, description="Seconds to wait for the step to finish (else 202).")
]
DEFAULT_WAIT = 30.0


# --- manual steps -----------------------------------------------------------------------------


@router.post(
    "/{job_id}/steps/{step}/execute",
    response_model=ExecuteStepResponse,
    responses={**CONFLICT, 202: {"model": ExecuteStepResponse, "description": "Still running"}},
)
def execute_step(
    job_id: uuid.UUID,
    step: StepKey,
    body: ExecuteStepRequest,
    response: Response,
    principal: Operator,
    idempotency_key: IdempotencyKeyHeader = None,
    wait: Wait = DEFAULT_WAIT,
) -> dict[str, Any]:
    """Run a waiting manual step with a payload and wait for it (up to `wait` seconds)."""
    key = one_idempotency_key(idempotency_key, body.idempotency_key)
    code, result = execute_and_wait(principal, job_id, step, body.payload, key, wait)
    response.status_code = code
    return result


def execute_and_wait(
    principal: Principal,
    job_id: uuid.UUID,
    step: str,
    payload: dict[str, Any] | None,
    key: str | None,
    wait: float,
) -> tuple[int, dict[str, Any]]:
    """Execute (or replay) and wait; (HTTP status, ExecuteStepResponse)."""
    outbox = Outbox()
    with transaction() as conn:
        done = manual.execute_step(conn, principal, job_id, step, payload, outbox, key)
    flush(outbox)
    state = _wait_for(job_id, step, wait)
    still = state.status in manual.RUNNING
    return (http.HTTP_202_ACCEPTED if still else http.HTTP_200_OK), {
        "success": state.status == "completed",
        "job_id": job_id,
        "step": step,
        "status": state.status,
        "attempt": done.attempt_number,
        "replayed": done.replayed,
        "result": state.output_data if state.status == "completed" else None,
        "error": state.error_message if not still and state.status != "completed" else None,
    }


def _wait_for(job_id: uuid.UUID, step: str, wait: float) -> HumanStep:
    """The step once it is no longer queued or running, or when `wait` seconds have passed
    (polled with a growing interval: 50 ms up to 500 ms)."""
    deadline, delay = time.monotonic() + wait, 0.05
    while True:
        with transaction() as conn:
            state = next((s for s in queries.human_steps(conn, job_id) if s.step_key == step), None)
        if state is None:  # the job was deleted meanwhile
            raise NotFound(f"job {job_id} not found")
        left = deadline - time.monotonic()
        if state.status not in manual.RUNNING or left <= 0:
            return state
        time.sleep(min(delay, left))
        delay = min(delay * 1.5, 0.5)


# --- review gates -----------------------------------------------------------------------------


@router.get("/{job_id}/review", response_model=ReviewPage, responses=errors(not_found=NOT_FOUND))
def read_review(
    job_id: uuid.UUID,
    principal: Viewer,
    step: GateKey = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    decision: Annotated[
        str | None, Query(pattern="^(approved|rejected|undecided)$", description="Filter")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The gate's review: counts and a page of its items (search `q` in the item's text)."""
    with transaction() as conn:
        review, items, matched = service.read_review(
            conn,
            principal.workspace_id,
            job_id,
            step,
            q=q,
            decision=decision,
            limit=limit,
            offset=offset,
        )
    page = {"items": [item_dict(i) for i in items], "matched": matched}
    return disclose(principal, {**review_dict(review), **page, "limit": limit, "offset": offset})


@router.post("/{job_id}/review/decisions", response_model=DecideResponse, responses=CONFLICT)
def decide(
    job_id: uuid.UUID, body: DecideRequest, principal: Operator, step: GateKey = None
) -> dict[str, Any]:
    """Approve or reject items in bulk; a result per id (an unknown id fails on its own)."""
    return decide_items(principal, job_id, body.ids, body.decision.value, body.note, step)


def decide_items(
    principal: Principal,
    job_id: uuid.UUID,
    ids: list[str],
    decision: str,
    note: str | None,
    step: str | None = None,
) -> dict[str, Any]:
    outbox = Outbox()
    with transaction() as conn:
        review, results = service.decide_items(conn, principal, job_id, ids, decision, note, step)
        outbox.add_event(_review_event(conn, review, "review_decided", decision=decision))
    flush(outbox)
    items = [dataclasses.asdict(r) for r in results]
    return {"success": True, "results": items, "counts": counts(review)}


@router.patch("/{job_id}/review/items/{item_id}", response_model=PatchResponse, responses=CONFLICT)
def patch_item(
    job_id: uuid.UUID,
    item_id: Annotated[str, Path(min_length=1, max_length=200)],
    body: PatchItemRequest,
    principal: Operator,
    step: GateKey = None,
) -> dict[str, Any]:
    """Change an item's editable fields (objects merge); the audit log keeps before/after."""
    return patch_fields(principal, job_id, item_id, body.fields, step)


def patch_fields(
    principal: Principal,
    job_id: uuid.UUID,
    item_id: str,
    fields: dict[str, Any],
    step: str | None = None,
) -> dict[str, Any]:
    outbox = Outbox()
    with transaction() as conn:
        item = service.patch_item(conn, principal, job_id, item_id, fields, step)
        review = review_queries.get_review(conn, principal.workspace_id, job_id, step)
        outbox.add_event(_review_event(conn, review, "review_patched", item_id=item_id))
    flush(outbox)
    return {"success": True, "item": item_dict(item)}


@router.post("/{job_id}/review/submit", response_model=ReviewModel, responses=CONFLICT)
def submit(
    job_id: uuid.UUID, principal: Operator, body: SubmitRequest | None = None, step: GateKey = None
) -> dict[str, Any]:
    """Close the review and run the gate with the reviewed items (409 while items are
    undecided, unless `undecided` is "reject")."""
    outbox = Outbox()
    with transaction() as conn:
        review = service.submit_review(
            conn, principal, job_id, outbox, (body or SubmitRequest()).undecided.value, step
        )
    flush(outbox)
    return review_dict(review)


def _review_event(
    conn: psycopg.Connection[Any], review: ReviewRow, kind: str, **data: Any
) -> dict[str, Any]:
    """A live event for other reviewers' screens (decisions and patches change no status)."""
    return record_event(
        conn,
        review.job_id,
        kind,
        step_key=review.step_key,
        data={**data, "counts": counts(review)},
    )


def counts(review: ReviewRow) -> dict[str, int]:
    return {
        "total": review.total,
        "approved": review.approved,
        "rejected": review.rejected,
        "undecided": review.undecided,
    }


def review_dict(review: ReviewRow) -> dict[str, Any]:
    return {
        "job_id": review.job_id,
        "step": review.step_key,
        "step_name": review.step_name,
        "step_status": review.step_status,
        "items_from": review.items_from,
        "status": review.status,
        "editable": review.editable,
        "counts": counts(review),
        "submitted_by": review.submitted_by,
        "submitted_at": review.submitted_at,
    }


def item_dict(item: ReviewItemRow) -> dict[str, Any]:
    return {
        "id": item.item_id,
        "position": item.position,
        "item": item.item,
        "original": item.original,
        "decision": item.decision,
        "note": item.note,
        "decided_by": item.decided_by,
        "decided_at": item.decided_at,
    }
