"""Request and response shapes of the continuous workflows API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

CHANNEL = r"^[a-z_][a-z0-9_]{0,62}$"


class ContinuousCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: str = Field(min_length=1, max_length=100, description="The workflow's id or name.")
    expected_work: str = Field(
        min_length=1, max_length=200, description="A registered expected_work function."
    )
    channel: str | None = Field(
        default=None,
        pattern=CHANNEL,
        description="Check when `NOTIFY <channel>` arrives (a lowercase SQL identifier).",
    )
    check_interval_seconds: float | None = Field(default=None, ge=1, le=86400)
    input_payload: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True

    @model_validator(mode="after")
    def _woken_somehow(self) -> ContinuousCreate:
        if self.channel is None and self.check_interval_seconds is None:
            raise ValueError("give a channel, a check_interval_seconds, or both")
        return self


class ContinuousUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(default=None, description="Omitted: unchanged.")


class Continuous(BaseModel):
    id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_name: str
    expected_work: str
    channel: str | None
    check_interval_seconds: float | None
    input_payload: dict[str, Any]
    enabled: bool
    last_checked_at: datetime | None
    last_result: dict[str, Any] | None = Field(description="The last check's answer (or error).")
    last_job_id: uuid.UUID | None
    last_job_active: bool
    created_at: datetime


class ContinuousList(BaseModel):
    items: list[Continuous]
