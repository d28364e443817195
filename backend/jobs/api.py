"""Jobs: create (idempotent), list, count, read, cancel, resume, re-run, delete, bulk."""

from __future__ import annotations

import shlex
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi import status as http

from backend.audit import record_audit
from backend.errors import InvalidInput, InvalidTransition, JobmonitorError
from backend.http.deps import Operator, Principal, Viewer, disclose, flush, transaction
from backend.http.responses import errors
from backend.jobs import listing, queries, search, service
from backend.jobs.outbox import Outbox
from backend.jobs.rows import JobRow
from backend.jobs.schemas import (
    BulkAction,
    BulkItemResult,
    BulkRequest,
    BulkResponse,
    CreateJobRequest,
    ErrorInfo,
    Job,
    JobCounts,
    JobList,
    RerunRequest,
)
from backend.jobs.states import JOB_TERMINAL, JobStatus, record_event
from backend.runs.modes import RunMode
from backend.workflows.queries import find_workflow

router = APIRouter(prefix="/jobs", tags=["jobs"])

NOT_FOUND = "No such job in this workspace"
ERRORS = errors(not_found=NOT_FOUND)
TRANSITION_ERRORS = errors(
    not_found=NOT_FOUND, conflict="The job's status does not allow this (the reason says why)"
)


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Same as the body field.",
    ),
]


class Sort(StrEnum):
    NEWEST = "-created_at"
    OLDEST = "created_at"


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@router.post(
    "",
    status_code=http.HTTP_201_CREATED,
    response_model=Job,
    responses={
        **errors(
            not_found=NOT_FOUND,
            conflict="Idempotency key used with another payload, or the concurrency policy refused",
            invalid="The payload does not match the workflow's input schema (every field listed)",
            limited="The workflow's minimum interval between starts has not elapsed (Retry-After)",
        ),
        200: {
            "model": Job,
            "description": "Replay: the job an earlier request with this idempotency key created",
        },
    },
)
def create_job(
    body: CreateJobRequest,
    response: Response,
    principal: Operator,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JobRow:
    """Start a job of a workflow; `201` new, `200` replay of the same key and payload."""
    key = one_idempotency_key(idempotency_key, body.idempotency_key)
    job, replayed = start_job(principal, body, key)
    if replayed:
        response.status_code = http.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return disclose(principal, job)


def one_idempotency_key(header: str | None, field: str | None) -> str | None:
    """The request's idempotency key: the body's field or the header (422 when they differ)."""
    if header and field and header != field:
        raise InvalidInput(
            "the Idempotency-Key header and the idempotency_key field differ",
            [
                {
                    "loc": ["header", "idempotency-key"],
                    "msg": "differs from the body's idempotency_key",
                }
            ],
        )
    return field or header


def start_job(principal: Principal, body: CreateJobRequest, key: str | None) -> tuple[JobRow, bool]:
    """Create (or replay) the job, with its audit entry; the job as stored, and whether it was
    a replay. Every route family that creates jobs calls this."""
    outbox = Outbox()
    with transaction() as conn:
        created = service.create_job(
            conn,
            principal.workspace_id,
            body.workflow_ref,
            body.input_payload,
            outbox,
            idempotency_key=key,
            force=body.force,
            mode=RunMode(body.mode),
            item_id=body.item_id,
            actor=principal,
            metadata=body.metadata,
        )
        job = queries.get_job(conn, created.job_id, workspace_id=principal.workspace_id)
        if not created.replayed:
            record_audit(
                conn,
                principal,
                "job.create",
                "job",
                job.id,
                None,
                job.status,
                {
                    "workflow": job.workflow_name,
                    "idempotency_key": key,
                    "force": body.force,
                    "mode": body.mode,
                    "item_id": body.item_id,
                    "replaced": [str(j) for j in created.replaced],
                },
            )
    flush(outbox)
    return job, created.replayed


WorkflowFilter = Annotated[
    str | None, Query(min_length=1, max_length=100, description="The workflow's id or name")
]


def _workflow(
    conn: psycopg.Connection[Any], principal: Principal, ref: str | None
) -> uuid.UUID | None:
    """The filter's workflow by id or name (404 when the workspace has none such)."""
    return None if ref is None else find_workflow(conn, principal.workspace_id, ref).id


@router.get("", response_model=JobList, responses=ERRORS)
def list_jobs(
    request: Request,
    principal: Viewer,
    status: Annotated[
        list[JobStatus] | None, Query(description="Repeat for several statuses.")
    ] = None,
    workflow_id: WorkflowFilter = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Workflow name part or job id prefix."),
    ] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    sort: Sort = Sort.NEWEST,
    skip: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="next_cursor of the previous page.")
    ] = None,
    waiting: Annotated[
        bool, Query(description="Only jobs with a step waiting for a person.")
    ] = False,
    search_query: Annotated[
        str | None,
        Query(
            alias="search",
            max_length=1000,
            description="Search inside runs: `input.mode=fast input.records>100 "
            "metadata.operator=cli output.rows exists error~timeout error_type=ValueError "
            "failed_step=transform cost>0.5 duration>90s status=failed`; other words act as `q`.",
        ),
    ] = None,
) -> dict[str, Any]:
    """Jobs newest first, without payloads. `total` is exact for status/workflow filters.
    Payload filters also work as plain parameters: `?metadata.operator=cli` is the same as
    `?search=metadata.operator=cli`."""
    found = search.parse(" ".join([search_query or "", *_payload_params(request)]))
    _one_of("status", status, found.statuses)
    _one_of("q", q, found.text)
    with transaction() as conn:
        f = listing.JobFilter(
            statuses=tuple(dict.fromkeys(str(s) for s in status or found.statuses)),
            workflow_id=_workflow(conn, principal, workflow_id),
            q=q or found.text,
            created_after=_utc(created_after),
            created_before=_utc(created_before),
            waiting=waiting,
            terms=found.terms,
        )
        page = listing.list_jobs(
            conn,
            principal.workspace_id,
            f,
            descending=sort is Sort.NEWEST,
            skip=skip,
            limit=limit,
            cursor=cursor,
        )
    return {
        "items": disclose(principal, page.rows),
        "total": page.total,
        "total_exact": page.total_exact,
        "skip": skip,
        "limit": limit,
        "next_cursor": page.next_cursor,
    }


PAYLOAD_PARAMS = ("metadata.", "input.", "output.")


def _payload_params(request: Request) -> list[str]:
    """`metadata.<path>=value` (and `input.`/`output.`) query parameters as search terms."""
    return [
        shlex.quote(f"{key}={value}")
        for key, value in request.query_params.multi_items()
        if key.startswith(PAYLOAD_PARAMS)
    ]


def _one_of(name: str, param: Any, from_search: Any) -> None:
    if param and from_search:
        msg = f"give {name} either as the {name} parameter or inside search, not both"
        raise InvalidInput(msg, [{"loc": ["query", "search"], "msg": msg}])


@router.get("/counts", response_model=JobCounts, responses=ERRORS)
def count_jobs(principal: Viewer, workflow_id: WorkflowFilter = None) -> dict[str, Any]:
    """Jobs per status (the list's filter tabs), from maintained counters."""
    with transaction() as conn:
        workflow = _workflow(conn, principal, workflow_id)
        counts = listing.count_by_status(conn, principal.workspace_id, workflow)
        waiting = listing.count_waiting(conn, principal.workspace_id, workflow)
    return {"total": sum(counts.values()), "by_status": counts, "waiting": waiting}


@router.post("/bulk", response_model=BulkResponse, responses=ERRORS)
def bulk(body: BulkRequest, principal: Operator) -> dict[str, Any]:
    """Cancel or delete several jobs; each id succeeds or fails on its own."""
    results = [_bulk_one(principal, body.action, job_id) for job_id in dict.fromkeys(body.ids)]
    ok = sum(1 for r in results if r.ok)
    return {"action": body.action, "succeeded": ok, "failed": len(results) - ok, "results": results}


def _bulk_one(principal: Principal, action: BulkAction, job_id: uuid.UUID) -> BulkItemResult:
    outbox = Outbox()
    try:
        with transaction() as conn:
            if action is BulkAction.CANCEL:
                before = service.cancel_job(
                    conn, principal.workspace_id, job_id, outbox, actor=principal.actor
                )
                after: str | None = JobStatus.CANCELLED.value
            else:
                before, after = service.delete_job(conn, principal.workspace_id, job_id), None
            record_audit(
                conn, principal, f"job.{action.value}", "job", job_id, before, after, {"bulk": True}
            )
    except JobmonitorError as exc:
        return BulkItemResult(
            id=job_id, ok=False, error=ErrorInfo(code=exc.code, message=exc.message)
        )
    flush(outbox)
    return BulkItemResult(id=job_id, ok=True, status_before=before, status_after=after)


@router.get("/{job_id}", response_model=Job, responses=ERRORS)
def get_job(job_id: uuid.UUID, principal: Viewer) -> JobRow:
    with transaction() as conn:
        return disclose(
            principal, queries.get_job(conn, job_id, workspace_id=principal.workspace_id)
        )


@router.delete(
    "/{job_id}",
    status_code=http.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(not_found=NOT_FOUND, conflict="The job is not finished"),
)
def delete_job(job_id: uuid.UUID, principal: Operator) -> Response:
    """Delete a finished job with its steps, attempts, logs, costs, metrics and events."""
    with transaction() as conn:
        before = service.delete_job(conn, principal.workspace_id, job_id)
        record_audit(conn, principal, "job.delete", "job", job_id, before, None)
    return Response(status_code=http.HTTP_204_NO_CONTENT)


def _act(principal: Principal, job_id: uuid.UUID, action: str, fn: Any) -> JobRow:
    outbox = Outbox()
    with transaction() as conn:
        before = fn(conn, principal.workspace_id, job_id, outbox, actor=principal.actor)
        job = queries.get_job(conn, job_id, workspace_id=principal.workspace_id)
        record_audit(conn, principal, action, "job", job_id, before, job.status)
    flush(outbox)
    return disclose(principal, job)


@router.post("/{job_id}/cancel", response_model=Job, responses=TRANSITION_ERRORS)
def cancel_job(job_id: uuid.UUID, principal: Operator) -> JobRow:
    """Cancel a pending or running job; running steps stop at their next heartbeat."""
    return _act(principal, job_id, "job.cancel", service.cancel_job)


@router.post("/{job_id}/resume", response_model=Job, responses=TRANSITION_ERRORS)
def resume_job(job_id: uuid.UUID, principal: Operator) -> JobRow:
    """Run a failed or cancelled job again from where it stopped."""
    return _act(principal, job_id, "job.resume", service.resume_job)


@router.post(
    "/{job_id}/rerun",
    status_code=http.HTTP_201_CREATED,
    response_model=Job,
    responses={**TRANSITION_ERRORS, **errors(limited="Rate limited by the workflow's policy")},
)
def rerun_job(job_id: uuid.UUID, principal: Operator, body: RerunRequest | None = None) -> JobRow:
    """A new job linked by `rerun_of`: the same input and workflow version; with `from_step`
    the steps outside that step's downstream are reused (not run), with `input_patch` the input
    is patched and validated, with `latest_version` the workflow's newest version runs."""
    return rerun(principal, job_id, body or RerunRequest())


def rerun(principal: Principal, job_id: uuid.UUID, body: RerunRequest) -> JobRow:
    """The re-run route's work (also the step route's and the failure inbox's)."""
    outbox = Outbox()
    with transaction() as conn:
        original = queries.get_job(
            conn, job_id, workspace_id=principal.workspace_id, payloads=False
        )
        if original.status not in JOB_TERMINAL:
            raise InvalidTransition(
                f"job {job_id} is {original.status}: only finished jobs can be re-run (cancel it first)"
            )
        created = service.rerun_job(
            conn,
            principal.workspace_id,
            job_id,
            outbox,
            principal,
            from_step=body.from_step,
            input_patch=body.input_patch,
            latest_version=body.latest_version,
        )
        job = queries.get_job(conn, created.job_id, workspace_id=principal.workspace_id)
        outbox.add_event(rerun_event(conn, principal, job_id, job.id, body))
        record_audit(
            conn,
            principal,
            "job.rerun",
            "job",
            job_id,
            original.status,
            job.status,
            {"new_job_id": str(job.id), **body.model_dump(exclude_defaults=True)},
        )
    flush(outbox)
    return disclose(principal, job)


def rerun_event(
    conn: psycopg.Connection[Any],
    principal: Principal,
    job_id: uuid.UUID,
    new_job_id: uuid.UUID,
    body: RerunRequest,
) -> dict[str, Any]:
    """`job_rerun` on the original job: its event history tells who re-ran it, and as what."""
    data: dict[str, Any] = {"actor": principal.actor[:200], "new_job_id": str(new_job_id)}
    if body.from_step:
        data["from_step"] = body.from_step
    return record_event(conn, job_id, "job_rerun", step_key=None, data=data)
