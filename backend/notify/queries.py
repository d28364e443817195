"""The SQL of notifications: channels (scoped to a workspace), deliveries and their attempts."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.errors import NotFound
from backend.notify.rows import AttemptRow, ChannelRow, DeliveryRow, DueDelivery
from backend.notify.send import Outcome


def insert_channel(conn: psycopg.Connection[Any], values: dict[str, Any]) -> uuid.UUID:
    row = conn.execute(
        """
        INSERT INTO notification_channels (id, workspace_id, name, kind, url, secret, enabled)
        VALUES (%(id)s, %(workspace_id)s, %(name)s, %(kind)s, %(url)s, %(secret)s, %(enabled)s)
        RETURNING id
        """,
        values,
    ).fetchone()
    assert row is not None
    return row["id"]  # type: ignore[no-any-return]


def name_taken(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM notification_channels WHERE workspace_id = %s AND name = %s",
        (workspace_id, name),
    ).fetchone()
    return row is not None


def get_channel(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, channel_id: uuid.UUID
) -> ChannelRow:
    row = (
        conn.cursor(row_factory=class_row(ChannelRow))
        .execute(
            "SELECT * FROM notification_channels WHERE id = %s AND workspace_id = %s",
            (channel_id, workspace_id),
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"channel {channel_id} not found")
    return row


def list_channels(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> list[ChannelRow]:
    return (
        conn.cursor(row_factory=class_row(ChannelRow))
        .execute(
            "SELECT * FROM notification_channels WHERE workspace_id = %s ORDER BY name",
            (workspace_id,),
        )
        .fetchall()
    )


def existing_channels(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    rows = conn.execute(
        "SELECT id FROM notification_channels WHERE workspace_id = %s AND id = ANY(%s)",
        (workspace_id, ids),
    ).fetchall()
    return {r["id"] for r in rows}


def delete_channel(conn: psycopg.Connection[Any], channel_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM notification_channels WHERE id = %s", (channel_id,))


def enqueue(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    channel_ids: list[uuid.UUID],
    event: str,
    payload: dict[str, Any],
) -> list[uuid.UUID]:
    """A pending delivery per enabled channel of the workspace among `channel_ids`."""
    rows = conn.execute(
        """
        INSERT INTO notification_deliveries (id, workspace_id, channel_id, event, payload, status,
                                             attempts)
        SELECT gen_random_uuid(), workspace_id, id, %s, %s, 'pending', 0 FROM notification_channels
        WHERE workspace_id = %s AND id = ANY(%s) AND enabled
        RETURNING id
        """,
        (event, Jsonb(payload), workspace_id, channel_ids),
    ).fetchall()
    return [r["id"] for r in rows]


def claim_due(conn: psycopg.Connection[Any], limit: int, lease_seconds: float) -> list[DueDelivery]:
    """Pending deliveries whose time has come, leased so no other scheduler sends them while
    this one does (a scheduler that dies mid-send leaves them to be sent again later)."""
    return (
        conn.cursor(row_factory=class_row(DueDelivery))
        .execute(
            """
            WITH due AS (
                SELECT id FROM notification_deliveries
                WHERE status = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)
            UPDATE notification_deliveries d
            SET next_attempt_at = now() + make_interval(secs => %s)
            FROM due, notification_channels c
            WHERE d.id = due.id AND c.id = d.channel_id
            RETURNING d.id, d.channel_id, c.kind, c.url, c.secret, d.payload, d.attempts
            """,
            (limit, lease_seconds),
        )
        .fetchall()
    )


def claim_one(conn: psycopg.Connection[Any], delivery_id: uuid.UUID) -> DueDelivery:
    row = (
        conn.cursor(row_factory=class_row(DueDelivery))
        .execute(
            """
            SELECT d.id, d.channel_id, c.kind, c.url, c.secret, d.payload, d.attempts
            FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
            WHERE d.id = %s
            """,
            (delivery_id,),
        )
        .fetchone()
    )
    assert row is not None
    return row


def record(
    conn: psycopg.Connection[Any],
    delivery: DueDelivery,
    outcome: Outcome,
    status: str,
    retry_in: float | None,
) -> None:
    attempt = delivery.attempts + 1
    conn.execute(
        """
        INSERT INTO notification_attempts (delivery_id, attempt, url, status_code, error, duration_ms)
        VALUES (%s, %s, %s, %s, %s, %s)
        """,
        (
            delivery.id,
            attempt,
            outcome.url,
            outcome.status_code,
            outcome.error,
            outcome.duration_ms,
        ),
    )
    conn.execute(
        """
        UPDATE notification_deliveries SET status = %s, attempts = %s, last_error = %s,
               next_attempt_at = now() + make_interval(secs => coalesce(%s, 0)),
               delivered_at = CASE WHEN %s = 'delivered' THEN now() END
        WHERE id = %s
        """,
        (status, attempt, outcome.error, retry_in, status, delivery.id),
    )


def list_deliveries(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, channel_id: uuid.UUID, limit: int
) -> list[DeliveryRow]:
    return (
        conn.cursor(row_factory=class_row(DeliveryRow))
        .execute(
            """
            SELECT id, channel_id, event, payload, status, attempts, next_attempt_at, last_error,
                   created_at, delivered_at
            FROM notification_deliveries WHERE channel_id = %s AND workspace_id = %s
            ORDER BY created_at DESC LIMIT %s
            """,
            (channel_id, workspace_id, limit),
        )
        .fetchall()
    )


def attempts_of(conn: psycopg.Connection[Any], delivery_ids: list[uuid.UUID]) -> list[AttemptRow]:
    return (
        conn.cursor(row_factory=class_row(AttemptRow))
        .execute(
            """
            SELECT delivery_id, attempt, url, status_code, error, duration_ms, created_at
            FROM notification_attempts WHERE delivery_id = ANY(%s) ORDER BY delivery_id, attempt
            """,
            (delivery_ids,),
        )
        .fetchall()
    )
