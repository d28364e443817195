"""Continuous workflows: started when their `expected_work` function reports pending work,
checked when a PostgreSQL NOTIFY arrives on their channel or every interval."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.columns import fk, jsonb, pk, server_now, ts


class ContinuousWorkflow(SQLModel, table=True):
    __tablename__ = "continuous_workflows"
    __table_args__ = (UniqueConstraint("workflow_id", name="uq_continuous_workflow"),)

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    workflow_id: uuid.UUID = fk("workflows.id")
    expected_work: str = Field(max_length=200)
    channel: str | None = Field(default=None, max_length=63)
    check_interval_seconds: float | None = None
    input_payload: dict[str, Any] = jsonb(nullable=False)
    enabled: bool = Field(default=True)
    woken: bool = Field(default=False)  # woken while its job ran: check again when it ends
    last_checked_at: datetime | None = ts()
    last_result: dict[str, Any] | None = jsonb()
    last_job_id: uuid.UUID | None = fk("jobs.id", nullable=True, ondelete="SET NULL")
    created_at: datetime = server_now()
    updated_at: datetime = server_now()
