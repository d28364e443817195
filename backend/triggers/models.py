"""Triggers (chains): when a job of workflow A ends, start workflow B with an input mapped from
A's input, output and step outputs. Each (trigger, source job) fires once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from backend.columns import fk, jsonb, pk, server_now


class Trigger(SQLModel, table=True):
    __tablename__ = "triggers"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_triggers_workspace_name"),
        Index("ix_triggers_source", "source_workflow_id"),
    )

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    name: str = Field(max_length=100)
    source_workflow_id: uuid.UUID = fk("workflows.id")
    on: str = Field(max_length=16)  # completed, failed, finished
    target_workflow_id: uuid.UUID = fk("workflows.id")
    input_mapping: dict[str, Any] = jsonb(nullable=False)
    enabled: bool = Field(default=True)
    created_at: datetime = server_now()
    updated_at: datetime = server_now()


class TriggerFire(SQLModel, table=True):
    __tablename__ = "trigger_fires"
    __table_args__ = (
        UniqueConstraint("trigger_id", "source_job_id", name="uq_trigger_fires_source"),
        Index("ix_trigger_fires_job", "job_id"),
    )

    id: uuid.UUID = pk()
    trigger_id: uuid.UUID = fk("triggers.id")
    workspace_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    source_job_id: uuid.UUID | None = fk("jobs.id", nullable=True, ondelete="SET NULL")
    job_id: uuid.UUID | None = fk("jobs.id", nullable=True, ondelete="SET NULL")
    status: str = Field(max_length=16)  # started, refused, loop
    reason: str | None = Field(default=None, sa_column=Column(Text))
    chain: list[Any] = jsonb(nullable=False)  # the trigger ids that led here, this one last
    created_at: datetime = server_now()
