"""Notification channels (outgoing webhooks, Slack-compatible webhooks), the deliveries queued
for them, and every attempt of a delivery."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Identity, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from backend.columns import fk, jsonb, pk, server_now, ts


class NotificationChannel(SQLModel, table=True):
    __tablename__ = "notification_channels"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_channels_workspace_name"),)

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # webhook, slack
    url: str = Field(sa_column=Column(Text, nullable=False))
    secret: str | None = Field(default=None, max_length=128)  # signs webhook bodies
    enabled: bool = Field(default=True)
    created_at: datetime = server_now()


class NotificationDelivery(SQLModel, table=True):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_deliveries_channel", "channel_id", text("created_at DESC")),
    )

    id: uuid.UUID = pk()
    workspace_id: uuid.UUID = fk("workspaces.id")
    channel_id: uuid.UUID = fk("notification_channels.id")
    event: str = Field(max_length=64)
    payload: dict[str, Any] = jsonb(nullable=False)
    status: str = Field(max_length=16)  # pending, delivered, failed
    attempts: int = Field(default=0)
    next_attempt_at: datetime = server_now()
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = server_now()
    delivered_at: datetime | None = ts()


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "notification_attempts"
    __table_args__ = (Index("ix_attempts_delivery", "delivery_id", "attempt"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True)
    )
    delivery_id: uuid.UUID = fk("notification_deliveries.id")
    attempt: int
    url: str = Field(sa_column=Column(Text, nullable=False))  # redacted
    status_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    duration_ms: float
    created_at: datetime = server_now()
