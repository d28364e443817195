"""The rows the notifications domain's queries return."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ChannelRow:
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    kind: str
    url: str
    secret: str | None
    enabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DueDelivery:
    id: uuid.UUID
    channel_id: uuid.UUID
    kind: str
    url: str
    secret: str | None
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class AttemptRow:
    delivery_id: uuid.UUID
    attempt: int
    url: str
    status_code: int | None
    error: str | None
    duration_ms: float
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: uuid.UUID
    channel_id: uuid.UUID
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
