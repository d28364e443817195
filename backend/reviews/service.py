"""Review gates: people approve or reject the items of an upstream step in bulk, patch their
editable fields (checked against the gate's schema for each field), and submit the review.
Every decision and patch is an audit entry with who, when, and the value before and after.
Submitting queues the gate with the reviewed items as its payload; its output is what the
steps after it receive. The job's `draft_state` follows: proposed -> in_review -> approved or
rejected (the engine sets `applied` when a step after the gate completes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from backend.audit import Actor, record_audit
from backend.errors import InvalidInput, InvalidTransition, NotFound
from backend.jobs import queries as jobs
from backend.jobs import scheduler
from backend.jobs.outbox import Outbox
from backend.jobs.rows import JobRow
from backend.jobs.states import JOB_TERMINAL, S, StepStatus
from backend.reviews import queries
from backend.reviews.queries import APPROVED, OPEN, REJECTED
from backend.reviews.rows import ReviewItemRow, ReviewRow
from backend.workflows.input_schema import validate as validate_input

DECISIONS = {"approve": APPROVED, "reject": REJECTED}


@dataclass(frozen=True)
class ItemResult:
    id: str
    ok: bool
    decision_before: str | None = None
    decision_after: str | None = None
    error: str | None = None


def read_review(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    step: str | None = None,
    **page: Any,
) -> tuple[ReviewRow, list[ReviewItemRow], int]:
    """The review with a page of its items (`q`, `decision`, `limit`, `offset`)."""
    jobs.get_job(conn, job_id, workspace_id=workspace_id, payloads=False, names=False)
    review = queries.get_review(conn, workspace_id, job_id, step)
    items, matched = queries.list_items(conn, review.id, **page)
    return review, items, matched


def _open(
    conn: psycopg.Connection[Any], actor: Actor, job_id: uuid.UUID, step: str | None
) -> tuple[JobRow, ReviewRow]:
    """The job (locked) and its review, which must still take decisions."""
    job = jobs.get_job(conn, job_id, workspace_id=actor.workspace_id, lock=True, names=False)
    review = queries.get_review(conn, actor.workspace_id, job_id, step, lock=True)
    if job.status in JOB_TERMINAL:
        raise InvalidTransition(f"job {job_id} is {job.status}: its review is closed")
    if review.status != OPEN or review.step_status != S.WAITING:
        raise InvalidTransition(
            f"the review at step {review.step_key!r} was already submitted"
            if review.status != OPEN
            else f"the gate {review.step_key!r} is {review.step_status}, not waiting for review"
        )
    return job, review


def decide_items(
    conn: psycopg.Connection[Any],
    actor: Actor,
    job_id: uuid.UUID,
    ids: list[str],
    decision: str,
    note: str | None = None,
    step: str | None = None,
) -> tuple[ReviewRow, list[ItemResult]]:
    """Approve or reject items (`decision`: approve | reject); a result per id, in order."""
    job, review = _open(conn, actor, job_id, step)
    after = DECISIONS[decision]
    found = queries.items_by_id(conn, review.id, ids)
    results = []
    for item_id in dict.fromkeys(ids):
        item = found.get(item_id)
        if item is None:
            results.append(ItemResult(item_id, False, error=f"no item {item_id!r} in this review"))
            continue
        queries.decide(conn, review.id, item_id, after, note, actor.actor)
        record_audit(
            conn,
            actor,
            f"review.{decision}",
            "review_item",
            item_id,
            item.decision,
            after,
            {"job_id": str(job_id), "step": review.step_key, "note": note},
        )
        results.append(ItemResult(item_id, True, item.decision, after))
    if any(r.ok for r in results):
        queries.set_draft_state(conn, job.id, "in_review", only_from=("none", "proposed"))
    return queries.get_review(conn, actor.workspace_id, job_id, review.step_key), results


def patch_item(
    conn: psycopg.Connection[Any],
    actor: Actor,
    job_id: uuid.UUID,
    item_id: str,
    fields: dict[str, Any],
    step: str | None = None,
) -> ReviewItemRow:
    """Change editable fields of an item: an object value is merged into the field's object
    (JSON merge patch), anything else replaces it; the result must match the field's schema."""
    job, review = _open(conn, actor, job_id, step)
    item = queries.items_by_id(conn, review.id, [item_id]).get(item_id)
    if item is None:
        raise NotFound(f"no item {item_id!r} in the review at step {review.step_key!r}")
    changed = {name: merge(item.item.get(name), value) for name, value in fields.items()}
    _check_editable(review, changed)
    queries.patch_item(conn, review.id, item_id, {**item.item, **changed})
    record_audit(
        conn,
        actor,
        "review.patch",
        "review_item",
        item_id,
        data={
            "job_id": str(job_id),
            "step": review.step_key,
            "before": {name: item.item.get(name) for name in changed},
            "after": changed,
        },
    )
    queries.set_draft_state(conn, job.id, "in_review", only_from=("none", "proposed"))
    return queries.items_by_id(conn, review.id, [item_id])[item_id]


def merge(current: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge key by key (null removes), the rest replaces."""
    if not isinstance(patch, dict) or not isinstance(current, dict):
        return patch
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge(current.get(key), value)
    return merged


def _check_editable(review: ReviewRow, changed: dict[str, Any]) -> None:
    problems = []
    for name, value in changed.items():
        schema = review.editable.get(name)
        if schema is None:
            allowed = ", ".join(sorted(review.editable)) or "none"
            problems.append(
                {"loc": ["body", name], "msg": f"{name!r} is not editable (editable: {allowed})"}
            )
            continue
        problems += validate_input(schema, value, root=name)
    if not changed:
        problems.append({"loc": ["body"], "msg": "no field to change"})
    if problems:
        raise InvalidInput("the patch does not match the gate's editable fields", problems)


def submit_review(
    conn: psycopg.Connection[Any],
    actor: Actor,
    job_id: uuid.UUID,
    outbox: Outbox,
    undecided: str = "refuse",
    step: str | None = None,
) -> ReviewRow:
    """Close the review and queue its gate with the reviewed items as the payload; refused
    while items are undecided, unless `undecided` is "reject"."""
    job, review = _open(conn, actor, job_id, step)
    if review.undecided and undecided != "reject":
        raise InvalidTransition(
            f"{review.undecided} item(s) are undecided: decide them, or submit with"
            ' {"undecided": "reject"}',
            {"undecided": review.undecided},
        )
    rejected = queries.reject_undecided(conn, review.id, actor.actor)
    queries.mark_submitted(conn, review.id, actor.actor)
    review = queries.get_review(conn, actor.workspace_id, job_id, review.step_key)
    queries.set_draft_state(conn, job.id, APPROVED if review.approved else REJECTED)
    gate = next(s for s in jobs.human_steps(conn, job_id) if s.id == review.step_id)
    execution = scheduler.Execution(_document(conn, review), actor.actor[:200])
    moved = scheduler.new_attempt(
        conn, job, gate, outbox, from_status=StepStatus.WAITING, execution=execution
    ).result()
    assert moved is not None, "the gate changed under the job lock"
    outbox.add_event(moved.event)
    scheduler.settle_job(conn, job_id, outbox)
    record_audit(
        conn,
        actor,
        "review.submit",
        "job",
        job_id,
        "open",
        "submitted",
        {
            "step": review.step_key,
            "approved": review.approved,
            "rejected": review.rejected,
            "rejected_undecided": rejected,
        },
    )
    return review


def _document(conn: psycopg.Connection[Any], review: ReviewRow) -> dict[str, Any]:
    """What the gate receives as ctx.payload (and returns by default): the reviewed items."""
    items = [
        {**i.item, "decision": i.decision, "note": i.note}
        for i in queries.all_items(conn, review.id)
    ]
    return {
        "step": review.step_key,
        "items_from": review.items_from,
        "items": items,
        "total": review.total,
        "approved": review.approved,
        "rejected": review.rejected,
        "submitted_by": review.submitted_by,
    }
