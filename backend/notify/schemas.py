"""Request and response shapes of the notification channels API."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"  # JSON, signed with HMAC-SHA256
    SLACK = "slack"  # {"text": ...}


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    kind: ChannelKind = ChannelKind.WEBHOOK
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=128,
        description="Webhooks: the signing secret (default: generated, shown once).",
    )
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            host = httpx.URL(value).host
        except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
            raise ValueError(f"not a valid URL: {exc}") from None
        if not host:
            raise ValueError("the URL has no host")
        return value


class Channel(BaseModel):
    id: uuid.UUID
    name: str
    kind: ChannelKind
    url: str = Field(description="Redacted: scheme, host and port only.")
    has_secret: bool
    secret: str | None = Field(default=None, description="Only in the answer that created it.")
    enabled: bool
    created_at: datetime


class ChannelList(BaseModel):
    items: list[Channel]


class Attempt(BaseModel):
    attempt: int
    url: str
    status_code: int | None
    error: str | None
    duration_ms: float
    created_at: datetime


class Delivery(BaseModel):
    id: uuid.UUID
    event: str
    payload: dict[str, Any]
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[Attempt]


class DeliveryList(BaseModel):
    items: list[Delivery]
