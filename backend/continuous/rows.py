"""The rows the continuous domain's queries return."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ContinuousRow:
    id: uuid.UUID
    workspace_id: uuid.UUID
    workflow_id: uuid.UUID
    workflow_name: str
    expected_work: str
    channel: str | None
    check_interval_seconds: float | None
    input_payload: dict[str, Any]
    enabled: bool
    woken: bool
    last_checked_at: datetime | None
    last_result: dict[str, Any] | None
    last_job_id: uuid.UUID | None
    last_job_active: bool
    created_at: datetime
    updated_at: datetime
