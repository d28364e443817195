"""Schedules of a workflow and their fires: one row per due time a scheduler claimed, linked to
the job it started (or why it started none)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, Uuid, text
from sqlmodel import Field, SQLModel

from backend.columns import fk, jsonb, pk, server_now, ts


class Schedule(SQLModel, table=True):
    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("workflow_id", "name", name="uq_schedules_workflow_name"),
        Index("ix_schedules_due", "next_fire_at", postgresql_where=text("enabled")),
        Index("ix_schedules_workspace", "workspace_id", "created_at"),
    )

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    workflow_id: uuid.UUID = fk("workflows.id")
    name: str = Field(max_length=100)
    cron: str | None = Field(default=None, max_length=200)
    interval_seconds: float | None = None
    timezone: str = Field(default="UTC", max_length=64)
    input_payload: dict[str, Any] = jsonb(nullable=False)
    enabled: bool = Field(default=True)
    overlap: str = Field(max_length=16)
    catchup: str = Field(max_length=8)
    catchup_max: int = Field(default=1)
    jitter_seconds: float = Field(default=0.0)
    anchor_at: datetime = server_now()  # interval schedules count from here
    next_due_at: datetime = ts(nullable=False)  # the next nominal due time
    next_fire_at: datetime = ts(nullable=False)  # next_due_at plus this fire's jitter
    last_fired_at: datetime | None = ts()
    created_at: datetime = server_now()
    updated_at: datetime = server_now()


class ScheduleFire(SQLModel, table=True):
    """A due time of a schedule. The unique key is what makes a due time fire once, however
    many scheduler processes run."""

    __tablename__ = "schedule_fires"
    __table_args__ = (
        UniqueConstraint("schedule_id", "due_at", name="uq_schedule_fires_due"),
        Index("ix_schedule_fires_job", "job_id"),
        Index(
            "uq_schedule_fires_queued",
            "schedule_id",
            unique=True,
            postgresql_where=text("status = 'queued'"),
        ),
    )

    id: uuid.UUID = pk()
    schedule_id: uuid.UUID = fk("schedules.id")
    workspace_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    due_at: datetime = ts(nullable=False)
    status: str = Field(max_length=16)  # started, queued, skipped, refused
    job_id: uuid.UUID | None = fk("jobs.id", nullable=True, ondelete="SET NULL")
    reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = server_now()
    updated_at: datetime = server_now()
