"""Request and response shapes of human steps: executing a manual step, and a review gate's
review (items, decisions, patches, submit). Requests refuse unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from backend.jobs.schemas import IDEMPOTENCY_KEY, Request


class ExecuteStepRequest(Request):
    idempotency_key: str | None = IDEMPOTENCY_KEY
    payload: dict[str, Any] | None = Field(
        default=None, description="Validated against the step's input_schema; ctx.payload."
    )


class ExecuteStepResponse(BaseModel):
    """`success` is true when the step completed; `status` says where it is otherwise
    (202: still queued or running when the wait ended)."""

    success: bool
    job_id: uuid.UUID
    step: str
    status: str
    attempt: int
    replayed: bool
    result: Any = Field(description="The step's output once it completed.")
    error: str | None = None


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class DecideRequest(Request):
    ids: list[str] = Field(min_length=1, max_length=1000)
    decision: Decision
    note: str | None = Field(default=None, max_length=2000)


class SeedBulkRequest(Request):
    """Seed 000's proposals bulk body."""

    ids: list[str] = Field(min_length=1, max_length=1000)
    action: Decision
    note: str | None = Field(default=None, max_length=2000)


class PatchItemRequest(Request):
    fields: dict[str, Any] = Field(
        min_length=1, description="Editable fields; objects are merged (JSON merge patch)."
    )


class Undecided(StrEnum):
    REFUSE = "refuse"
    REJECT = "reject"


class SubmitRequest(Request):
    undecided: Undecided = Field(
        default=Undecided.REFUSE,
        description="refuse: a submit with undecided items is refused (409); reject: they are rejected.",
    )


class ReviewItem(BaseModel):
    id: str
    position: int
    item: dict[str, Any] = Field(description="The item as patched.")
    original: dict[str, Any] = Field(description="The item as proposed.")
    decision: str | None
    note: str | None
    decided_by: str | None
    decided_at: datetime | None


class ReviewCounts(BaseModel):
    total: int
    approved: int
    rejected: int
    undecided: int


class Review(BaseModel):
    job_id: uuid.UUID
    step: str
    step_name: str
    step_status: str
    items_from: str
    status: str = Field(description="open or submitted")
    editable: dict[str, Any] = Field(description="Editable field -> its JSON Schema.")
    counts: ReviewCounts
    submitted_by: str | None
    submitted_at: datetime | None


class ReviewPage(Review):
    items: list[ReviewItem]
    matched: int = Field(description="Items that match the search and filter.")
    limit: int
    offset: int


class ItemResult(BaseModel):
    id: str
    ok: bool
    decision_before: str | None = None
    decision_after: str | None = None
    error: str | None = None


class DecideResponse(BaseModel):
    success: bool = True
    results: list[ItemResult]
    counts: ReviewCounts


class PatchResponse(BaseModel):
    success: bool = True
    item: ReviewItem
