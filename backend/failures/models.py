"""What operators decided about a failure group (the groups themselves are computed from the
failed steps: see queries.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Text, Uuid
from sqlmodel import Field, SQLModel

from backend.columns import server_now, ts


class FailureGroup(SQLModel, table=True):
    __tablename__ = "failure_groups"

    workspace_id: uuid.UUID = Field(
        sa_column=Column(Uuid, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    )
    fingerprint: str = Field(sa_column=Column(String(32), primary_key=True))
    state: str = Field(max_length=16)
    assignee: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, sa_column=Column(Text))
    acknowledged_at: datetime | None = ts()
    resolved_at: datetime | None = ts()
    updated_at: datetime = server_now()
