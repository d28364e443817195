"""The rows the triggers domain's queries return."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class On(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    FINISHED = "finished"  # completed or failed


EVENT_ON = {
    "workflow_completed": (On.COMPLETED, On.FINISHED),
    "workflow_failed": (On.FAILED, On.FINISHED),
}


@dataclass(frozen=True, slots=True)
class TriggerRow:
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    source_workflow_id: uuid.UUID
    source_workflow: str
    on: str
    target_workflow_id: uuid.UUID
    target_workflow: str
    input_mapping: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TriggerFireRow:
    id: uuid.UUID
    trigger_id: uuid.UUID
    source_job_id: uuid.UUID | None
    job_id: uuid.UUID | None
    status: str
    reason: str | None
    chain: list[Any]
    created_at: datetime
