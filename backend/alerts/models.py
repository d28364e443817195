"""Alert rules, and the subjects each rule has already alerted about (a job, a step, a budget
period), so a subject alerts once per rule."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.columns import fk, jsonb, pk, server_now, ts


class AlertRule(SQLModel, table=True):
    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_alert_rules_name"),)

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    name: str = Field(max_length=100)
    kind: str = Field(max_length=32)
    params: dict[str, Any] = jsonb(nullable=False)
    workflow_ids: list[Any] = jsonb(nullable=False)  # [] = every workflow
    channel_ids: list[Any] = jsonb(nullable=False)
    quiet_seconds: float = Field(default=300.0)
    enabled: bool = Field(default=True)
    last_sent_at: datetime | None = ts()
    suppressed: int = Field(default=0)  # matches during the quiet period since the last send
    created_at: datetime = server_now()


class AlertNotice(SQLModel, table=True):
    __tablename__ = "alert_notices"
    __table_args__ = (UniqueConstraint("rule_id", "subject", name="uq_alert_notices_subject"),)

    id: uuid.UUID = pk()
    rule_id: uuid.UUID = fk("alert_rules.id")
    subject: str = Field(sa_type=Text)
    sent: bool  # false: suppressed by the quiet period
    created_at: datetime = server_now()
