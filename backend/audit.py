"""The audit log: who did what to which object, with its status before and after. Written in
the same transaction as the action, so an action that rolled back leaves no entry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

import psycopg
from psycopg.types.json import Jsonb


class Actor(Protocol):
    @property
    def workspace_id(self) -> uuid.UUID: ...
    @property
    def actor(self) -> str: ...


def record_audit(
    conn: psycopg.Connection[Any],
    principal: Actor,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str | None,
    before: str | None = None,
    after: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        """
        INSERT INTO audit_log (workspace_id, actor, action, target_type, target_id,
                               status_before, status_after, data)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            principal.workspace_id,
            principal.actor[:200],
            action[:64],
            target_type[:32],
            None if target_id is None else str(target_id)[:64],
            before,
            after,
            Jsonb(data) if data is not None else None,
        ),
    )


def list_audit(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    *,
    action: str | None = None,
    target_id: str | None = None,
    actor: str | None = None,
    before_id: int | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Newest first; `before_id` pages backwards (keyset)."""
    return conn.execute(
        """
        SELECT id, actor, action, target_type, target_id, status_before, status_after, data, created_at
        FROM audit_log
        WHERE workspace_id = %(ws)s
          AND (%(action)s::text IS NULL OR action = %(action)s)
          AND (%(target)s::text IS NULL OR target_id = %(target)s)
          AND (%(actor)s::text IS NULL OR actor = %(actor)s)
          AND (%(before)s::bigint IS NULL OR id < %(before)s)
          AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)
        ORDER BY id DESC
        LIMIT %(limit)s
        """,
        {
            "ws": workspace_id,
            "action": action,
            "target": target_id,
            "actor": actor,
            "before": before_id,
            "since": since,
            "limit": limit,
        },
    ).fetchall()
