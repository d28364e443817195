"""Request and response shapes of the alert rules API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.alerts.rows import Kind

NEEDS: dict[Kind, tuple[str, ...]] = {
    Kind.STEP_RETRIED: ("retries",),
    Kind.RUN_LONGER_THAN: ("seconds",),
    Kind.RUN_LONGER_THAN_P95: ("factor",),
    Kind.STUCK: ("seconds",),
}


class RuleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retries: int | None = Field(default=None, ge=0, le=1000, description="step_retried: N")
    seconds: float | None = Field(
        default=None, gt=0, le=30 * 86400, description="run_longer_than, stuck"
    )
    factor: float | None = Field(default=None, gt=0, le=1000, description="run_longer_than_p95: k")
    min_samples: int = Field(default=5, ge=1, le=100, description="run_longer_than_p95")


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    kind: Kind
    params: RuleParams = Field(default_factory=RuleParams)
    workflows: list[str] = Field(
        default_factory=list, max_length=100, description="Ids or names; [] = all."
    )
    channels: list[uuid.UUID] = Field(min_length=1, max_length=20)
    quiet_seconds: float = Field(default=300, ge=0, le=7 * 86400)
    enabled: bool = True

    @model_validator(mode="after")
    def _params_of_kind(self) -> RuleCreate:
        missing = [p for p in NEEDS.get(self.kind, ()) if getattr(self.params, p) is None]
        if missing:
            raise ValueError(f"kind {self.kind.value} needs params.{', params.'.join(missing)}")
        return self


class Rule(BaseModel):
    id: uuid.UUID
    name: str
    kind: Kind
    params: dict[str, Any]
    workflow_ids: list[uuid.UUID]
    channel_ids: list[uuid.UUID]
    quiet_seconds: float
    enabled: bool
    last_sent_at: datetime | None
    suppressed: int
    created_at: datetime


class RuleList(BaseModel):
    items: list[Rule]
