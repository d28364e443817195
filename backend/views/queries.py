"""The SQL of saved views: a person (token name) sees their own views and the workspace's."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row

from backend.errors import Conflict, NotFound
from backend.views.rows import ViewRow

_COLUMNS = "id, owner, name, query, created_at"


def list_views(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, owner: str) -> list[ViewRow]:
    return (
        conn.cursor(row_factory=class_row(ViewRow))
        .execute(
            f"SELECT {_COLUMNS} FROM saved_views WHERE workspace_id = %s"
            " AND (owner IS NULL OR owner = %s) ORDER BY owner NULLS FIRST, name",
            (workspace_id, owner),
        )
        .fetchall()
    )


def insert_view(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    owner: str | None,
    name: str,
    query: str,
) -> ViewRow:
    """A new view; Conflict when its owner (or the workspace) has one of that name."""
    row = (
        conn.cursor(row_factory=class_row(ViewRow))
        .execute(
            f"""
            INSERT INTO saved_views (id, workspace_id, owner, name, query)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (workspace_id, coalesce(owner, ''), name) DO NOTHING
            RETURNING {_COLUMNS}
            """,
            (uuid.uuid4(), workspace_id, owner, name, query),
        )
        .fetchone()
    )
    if row is None:
        raise Conflict(f"a view named {name!r} already exists", {"name": name})
    return row


def delete_view(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    owner: str,
    view_id: uuid.UUID,
    *,
    shared_too: bool,
) -> ViewRow:
    """Delete one's own view (or, `shared_too`, a shared one); NotFound for anyone else's."""
    row = (
        conn.cursor(row_factory=class_row(ViewRow))
        .execute(
            f"DELETE FROM saved_views WHERE id = %s AND workspace_id = %s"
            f" AND ((%s AND owner IS NULL) OR owner = %s) RETURNING {_COLUMNS}",
            (view_id, workspace_id, shared_too, owner),
        )
        .fetchone()
    )
    if row is None:
        raise NotFound(f"no saved view {view_id} of yours in this workspace")
    return row
