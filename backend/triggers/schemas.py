"""Request and response shapes of the triggers API; requests refuse unknown fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from backend.triggers.rows import On


class TriggerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    source_workflow: str = Field(min_length=1, max_length=100, description="Id or name.")
    on: On = Field(default=On.COMPLETED, description="completed, failed or finished (either).")
    target_workflow: str = Field(min_length=1, max_length=100, description="Id or name.")
    input_mapping: dict[str, Any] = Field(
        default_factory=dict,
        description='Each key of the new job\'s input: a literal, or a JSONPath into the ended job ("$.steps.load_data.output.rows").',
    )
    enabled: bool = True


class TriggerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(default=None, description="Omitted: unchanged.")


class Trigger(BaseModel):
    id: uuid.UUID
    name: str
    source_workflow_id: uuid.UUID
    source_workflow: str
    on: On
    target_workflow_id: uuid.UUID
    target_workflow: str
    input_mapping: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class TriggerList(BaseModel):
    items: list[Trigger]


class TriggerFire(BaseModel):
    id: uuid.UUID
    source_job_id: uuid.UUID | None
    job_id: uuid.UUID | None
    status: str = Field(description="started, refused or loop")
    reason: str | None
    chain: list[Any] = Field(description="The trigger ids that led to this fire, this one last.")
    created_at: datetime


class TriggerFireList(BaseModel):
    items: list[TriggerFire]
