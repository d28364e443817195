"""The SQL of the triggers domain: triggers (scoped to a workspace) and their fires."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from backend.errors import NotFound
from backend.triggers.rows import TriggerFireRow, TriggerRow

_SELECT = """
    SELECT t.*, s.name AS source_workflow, d.name AS target_workflow FROM triggers t
    JOIN workflows s ON s.id = t.source_workflow_id JOIN workflows d ON d.id = t.target_workflow_id
"""
_FIRE = "SELECT id, trigger_id, source_job_id, job_id, status, reason, chain, created_at FROM trigger_fires"


def insert_trigger(conn: psycopg.Connection[Any], values: dict[str, Any]) -> uuid.UUID:
    row = conn.execute(
        """
        INSERT INTO triggers (id, workspace_id, name, source_workflow_id, "on", target_workflow_id,
                              input_mapping, enabled)
        VALUES (%(id)s, %(workspace_id)s, %(name)s, %(source)s, %(on)s, %(target)s, %(mapping)s, %(enabled)s)
        RETURNING id
        """,
        {**values, "mapping": Jsonb(values["mapping"])},
    ).fetchone()
    assert row is not None
    return row["id"]  # type: ignore[no-any-return]


def name_taken(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM triggers WHERE workspace_id = %s AND name = %s", (workspace_id, name)
    ).fetchone()
    return row is not None


def get_trigger(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, trigger_id: uuid.UUID
) -> TriggerRow:
    row = (
        conn.cursor(row_factory=class_row(TriggerRow))
        .execute(f"{_SELECT} WHERE t.id = %s AND t.workspace_id = %s", (trigger_id, workspace_id))
        .fetchone()
    )
    if row is None:
        raise NotFound(f"trigger {trigger_id} not found")
    return row


def list_triggers(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> list[TriggerRow]:
    return (
        conn.cursor(row_factory=class_row(TriggerRow))
        .execute(f"{_SELECT} WHERE t.workspace_id = %s ORDER BY t.name", (workspace_id,))
        .fetchall()
    )


def set_enabled(conn: psycopg.Connection[Any], trigger_id: uuid.UUID, enabled: bool) -> None:
    conn.execute(
        "UPDATE triggers SET enabled = %s, updated_at = now() WHERE id = %s", (enabled, trigger_id)
    )


def delete_trigger(conn: psycopg.Connection[Any], trigger_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM triggers WHERE id = %s", (trigger_id,))


def triggers_for(
    conn: psycopg.Connection[Any], workflow_id: uuid.UUID, on: tuple[str, ...]
) -> list[TriggerRow]:
    """The enabled triggers a job of this workflow ending this way fires."""
    return (
        conn.cursor(row_factory=class_row(TriggerRow))
        .execute(
            f'{_SELECT} WHERE t.source_workflow_id = %s AND t."on" = ANY(%s) AND t.enabled ORDER BY t.name',
            (workflow_id, list(on)),
        )
        .fetchall()
    )


def chain_of(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> list[Any]:
    """The trigger ids that led to this job ([] for a job no trigger started)."""
    row = conn.execute(
        "SELECT chain FROM trigger_fires WHERE job_id = %s LIMIT 1", (job_id,)
    ).fetchone()
    return [] if row is None else list(row["chain"])


def claim_fire(
    conn: psycopg.Connection[Any], trigger: TriggerRow, source_job_id: uuid.UUID, chain: list[str]
) -> uuid.UUID | None:
    """The fire of (trigger, source job); None when it already fired."""
    row = conn.execute(
        """
        INSERT INTO trigger_fires (id, trigger_id, workspace_id, source_job_id, status, chain)
        VALUES (%s, %s, %s, %s, 'started', %s) ON CONFLICT DO NOTHING RETURNING id
        """,
        (uuid.uuid4(), trigger.id, trigger.workspace_id, source_job_id, Jsonb(chain)),
    ).fetchone()
    return None if row is None else row["id"]


def settle_fire(
    conn: psycopg.Connection[Any],
    fire_id: uuid.UUID,
    status: str,
    job_id: uuid.UUID | None,
    reason: str | None,
) -> None:
    conn.execute(
        "UPDATE trigger_fires SET status = %s, job_id = %s, reason = %s WHERE id = %s",
        (status, job_id, reason, fire_id),
    )


def list_fires(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, trigger_id: uuid.UUID, limit: int
) -> list[TriggerFireRow]:
    return (
        conn.cursor(row_factory=class_row(TriggerFireRow))
        .execute(
            f"{_FIRE} WHERE trigger_id = %s AND workspace_id = %s ORDER BY created_at DESC LIMIT %s",
            (trigger_id, workspace_id, limit),
        )
        .fetchall()
    )
