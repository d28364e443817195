"""Notification channels and deliveries: create and remove channels, queue deliveries, send the
due ones (the scheduler's pass) with retries and exponential backoff, and a test send.
Every attempt is logged with its status code or error."""

from __future__ import annotations

import dataclasses
import secrets
import time
import uuid
from typing import Any

import psycopg

from backend.automation.contain import contained
from backend.errors import Conflict
from backend.notify import queries, send
from backend.notify.rows import ChannelRow, DeliveryRow, DueDelivery
from backend.notify.schemas import ChannelCreate
from backend.settings import get_settings

LEASE_SECONDS = 120.0


def create_channel(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, spec: ChannelCreate
) -> tuple[ChannelRow, str | None]:
    """The channel and its signing secret (returned this once)."""
    if queries.name_taken(conn, workspace_id, spec.name):
        raise Conflict(
            f"a channel named {spec.name!r} exists",
            [{"loc": ["name"], "msg": "already used in this workspace"}],
        )
    secret = None
    if spec.kind == "webhook":
        secret = spec.secret or f"whsec_{secrets.token_urlsafe(32)}"
    values = spec.model_dump(mode="json") | {
        "id": uuid.uuid4(),
        "workspace_id": workspace_id,
        "secret": secret,
    }
    return queries.get_channel(conn, workspace_id, queries.insert_channel(conn, values)), secret


def delete_channel(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, channel_id: uuid.UUID
) -> ChannelRow:
    row = queries.get_channel(conn, workspace_id, channel_id)
    queries.delete_channel(conn, row.id)
    return row


def send_due(conn: psycopg.Connection[Any], budget_seconds: float = 3.0) -> int:
    """One pass: send what is due, one delivery at a time and outside any transaction (a slow
    receiver holds no lock), for at most about `budget_seconds` so the scheduler's other
    passes are not held up; the number of attempts made."""
    sent = 0
    deadline = time.monotonic() + budget_seconds
    while time.monotonic() < deadline:
        with conn.transaction():
            due = queries.claim_due(conn, 1, LEASE_SECONDS)
        if not due:
            break
        with contained(f"delivery {due[0].id}"):
            attempt(conn, due[0], retries=True)
        sent += 1
    return sent


def attempt(conn: psycopg.Connection[Any], delivery: DueDelivery, retries: bool) -> None:
    """Send once and record the attempt: delivered, pending again after the backoff, or failed
    (attempts used up, no retries wanted, or refused by the SSRF guard)."""
    outcome = send.deliver(
        delivery.url, delivery.kind, delivery.secret, delivery.id, delivery.payload
    )
    settings = get_settings()
    used = delivery.attempts + 1
    retry_in = None
    if outcome.ok:
        status = "delivered"
    elif retries and outcome.retry and used < settings.webhook_max_attempts:
        status, retry_in = "pending", settings.webhook_backoff_seconds * 2 ** (used - 1)
    else:
        status = "failed"
    with conn.transaction():
        queries.record(conn, delivery, outcome, status, retry_in)


def test_send(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, channel_id: uuid.UUID
) -> uuid.UUID:
    """Queue a test message on the channel and send it once, now. `conn` is not inside a
    transaction."""
    with conn.transaction():
        channel = queries.get_channel(conn, workspace_id, channel_id)
        payload = {
            "event": "test",
            "text": f"Test message from Jobmonitor to channel {channel.name}",
            "channel": channel.name,
        }
        ids = queries.enqueue(conn, workspace_id, [channel.id], "test", payload)
        if not ids:
            raise Conflict(f"channel {channel.name} is disabled")
        delivery = queries.claim_one(conn, ids[0])
    attempt(conn, delivery, retries=False)
    return delivery.id


def deliveries(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, channel_id: uuid.UUID, limit: int
) -> list[dict[str, Any]]:
    """The newest deliveries, each with its attempt log."""
    queries.get_channel(conn, workspace_id, channel_id)
    rows: list[DeliveryRow] = queries.list_deliveries(conn, workspace_id, channel_id, limit)
    log: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for a in queries.attempts_of(conn, [r.id for r in rows]):
        log.setdefault(a.delivery_id, []).append(dataclasses.asdict(a))
    return [dataclasses.asdict(r) | {"attempt_log": log.get(r.id, [])} for r in rows]
