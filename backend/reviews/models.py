"""Reviews: a review gate's items, each person's decision and patches (the audit log keeps
who changed what, before and after)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Identity, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.columns import fk, jsonb, pk, server_now, ts


class Review(SQLModel, table=True):
    """One review gate of one job: open while the gate waits, submitted once."""

    __tablename__ = "job_reviews"
    __table_args__ = (UniqueConstraint("step_id", name="uq_job_reviews_step"),)

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    job_id: uuid.UUID = fk("jobs.id", index=True)
    step_id: uuid.UUID = fk("job_steps.id")
    step_key: str = Field(max_length=100)
    items_from: str = Field(max_length=100)
    status: str = Field(max_length=16)  # open | submitted
    editable: dict[str, Any] = jsonb(nullable=False)
    submitted_by: str | None = Field(default=None, max_length=200)
    submitted_at: datetime | None = ts()
    created_at: datetime = server_now()
    updated_at: datetime = server_now()


class ReviewItem(SQLModel, table=True):
    """An item under review: as proposed (`original`), as patched (`item`), and its decision."""

    __tablename__ = "review_items"
    __table_args__ = (UniqueConstraint("review_id", "item_id", name="uq_review_items_item"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True)
    )
    review_id: uuid.UUID = fk("job_reviews.id")
    item_id: str = Field(max_length=200)
    position: int
    original: dict[str, Any] = jsonb(nullable=False)
    item: dict[str, Any] = jsonb(nullable=False)
    decision: str | None = Field(default=None, max_length=16)  # approved | rejected
    note: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = ts()
    updated_at: datetime = server_now()
