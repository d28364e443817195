"""The failure inbox: failed runs grouped by fingerprint (workflow, step, error type,
normalised message), what operators decided about each group, and which runs a bulk re-run
takes. A new occurrence after a group was resolved reopens it."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

import psycopg

from backend.errors import NotFound
from backend.failures import queries
from backend.failures.rows import GroupRow, OccurrenceRow
from backend.jobs.states import JobStatus

MAX_OCCURRENCES = 500


class GroupState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


def list_groups(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, status: GroupState | None = None
) -> list[GroupRow]:
    return queries.list_groups(conn, workspace_id, status=str(status) if status else None)


def count_open(conn: psycopg.Connection[Any], workspace_id: uuid.UUID) -> int:
    return queries.count_open(conn, workspace_id)


def get_group(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, fingerprint: str) -> GroupRow:
    """The group, or NotFound."""
    found = queries.list_groups(conn, workspace_id, fingerprint=fingerprint)
    if not found:
        raise NotFound(f"no failure group {fingerprint} in this workspace")
    return found[0]


def occurrences(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, group: GroupRow, limit: int = 100
) -> list[OccurrenceRow]:
    return queries.occurrences(conn, workspace_id, group.fingerprint, min(limit, MAX_OCCURRENCES))


def update_group(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    fingerprint: str,
    changes: dict[str, Any],
) -> tuple[GroupRow, GroupRow]:
    """Acknowledge, resolve or reopen (`state`), assign (`assignee`, a token name or None),
    annotate (`note`); returns the group before and after."""
    before = get_group(conn, workspace_id, fingerprint)
    state = str(changes.get("state") or before.status)
    queries.save_decision(conn, workspace_id, fingerprint, state, changes)
    return before, get_group(conn, workspace_id, fingerprint)


def runs_to_rerun(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, fingerprint: str
) -> list[uuid.UUID]:
    """The group's failed runs that have not been re-run yet (a bulk re-run takes each once)."""
    group = get_group(conn, workspace_id, fingerprint)
    rows = queries.occurrences(conn, workspace_id, group.fingerprint, MAX_OCCURRENCES)
    return list(
        dict.fromkeys(
            r.job_id for r in rows if r.job_status == JobStatus.FAILED and r.rerun_job_id is None
        )
    )
