"""Failure groups: failed steps that share a fingerprint (workflow, step, error type,
normalised message). A trigger on `job_steps` (migration 0007, `jm_failure_seen`) counts each
failure into its group and day as it happens, like `job_counts`, so the inbox reads a few
rows instead of grouping every failed step; operators' decisions are columns of the group."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    Uuid,
)
from sqlmodel import Field, SQLModel

from backend.columns import fk, server_now, ts


class FailureGroup(SQLModel, table=True):
    __tablename__ = "failure_groups"
    __table_args__ = (Index("ix_failure_groups_last_seen", "workspace_id", "last_seen"),)

    workspace_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    )
    fingerprint: str = Field(sa_column=Column(String(32), primary_key=True))
    workflow_id: uuid.UUID = fk("workflows.id")
    step_key: str = Field(max_length=100)
    error_type: str | None = Field(default=None, max_length=200)
    message: str = Field(sa_column=Column(Text, nullable=False))
    count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    first_seen: datetime = ts(nullable=False)
    last_seen: datetime = ts(nullable=False)
    state: str = Field(sa_column=Column(String(16), nullable=False, server_default="open"))
    assignee: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, sa_column=Column(Text))
    acknowledged_at: datetime | None = ts()
    resolved_at: datetime | None = ts()
    updated_at: datetime = server_now()


class FailureDay(SQLModel, table=True):
    """Failures of a group per day (UTC): the inbox's trend."""

    __tablename__ = "failure_days"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workspace_id", "fingerprint"],
            ["failure_groups.workspace_id", "failure_groups.fingerprint"],
            ondelete="CASCADE",
        ),
    )

    workspace_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    fingerprint: str = Field(sa_column=Column(String(32), primary_key=True))
    day: date = Field(sa_column=Column(Date, primary_key=True))
    n: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
