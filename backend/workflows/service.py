"""Registering and reading workflows. Functions take a psycopg connection; the caller commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from backend.errors import NotFound
from backend.steps import REGISTRY
from backend.workflows.definition import WorkflowDefinition, parse_definition


@dataclass(frozen=True)
class Registered:
    workflow_id: uuid.UUID
    version_id: uuid.UUID
    version: int
    created: bool  # False when the same definition was already the latest version


def register_workflow(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    document: Any,
    check_actions: bool = True,
) -> Registered:
    """Store a definition as a new workflow, or as its next version when it changed.
    Registering the same definition twice creates nothing (seeding is idempotent)."""
    actions = REGISTRY.steps.keys() if check_actions else None
    definition = parse_definition(document, actions)
    row = conn.execute(
        """
        INSERT INTO workflows (id, workspace_id, name, description, latest_version, execution_count)
        VALUES (%s, %s, %s, %s, 0, 0)
        ON CONFLICT (workspace_id, name) DO UPDATE SET name = EXCLUDED.name
        RETURNING id, latest_version
        """,
        (uuid.uuid4(), workspace_id, definition.name, definition.description),
    ).fetchone()
    assert row is not None
    workflow_id, latest = row["id"], row["latest_version"]
    current = _version_row(conn, workflow_id, latest) if latest else None
    if current is not None and current["definition_hash"] == definition.content_hash():
        return Registered(workflow_id, current["id"], latest, created=False)
    return _add_version(conn, workflow_id, latest + 1, definition)


def _add_version(
    conn: psycopg.Connection[Any],
    workflow_id: uuid.UUID,
    version: int,
    definition: WorkflowDefinition,
) -> Registered:
    version_id = uuid.uuid4()
    conn.execute(
        """
        INSERT INTO workflow_versions
            (id, workflow_id, version, definition, input_schema, concurrency, definition_hash)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        """,
        (
            version_id,
            workflow_id,
            version,
            Jsonb(definition.model_dump(mode="json")),
            Jsonb(definition.input_schema),
            Jsonb(definition.concurrency.model_dump(mode="json")),
            definition.content_hash(),
        ),
    )
    conn.execute(
        "UPDATE workflows SET latest_version = %s, description = %s, updated_at = now() WHERE id = %s",
        (version, definition.description, workflow_id),
    )
    return Registered(workflow_id, version_id, version, created=True)


def _version_row(
    conn: psycopg.Connection[Any], workflow_id: uuid.UUID, version: int
) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM workflow_versions WHERE workflow_id = %s AND version = %s",
        (workflow_id, version),
    ).fetchone()


def find_workflow(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ref: str | uuid.UUID
) -> dict[str, Any]:
    """A workflow of the workspace by id or by name; NotFound names close matches."""
    workflow_id = _as_uuid(ref)
    if workflow_id is not None:
        row = conn.execute(
            "SELECT * FROM workflows WHERE id = %s AND workspace_id = %s",
            (workflow_id, workspace_id),
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT * FROM workflows WHERE name = %s AND workspace_id = %s",
            (str(ref), workspace_id),
        ).fetchone()
    if row is None:
        raise NotFound(
            f"workflow {ref!s} not found",
            {"suggestions": _close_names(conn, workspace_id, str(ref))},
        )
    return row


def _close_names(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, name: str) -> list[str]:
    import difflib

    names = [
        r["name"]
        for r in conn.execute("SELECT name FROM workflows WHERE workspace_id = %s", (workspace_id,))
    ]
    return difflib.get_close_matches(name, names, n=3, cutoff=0.5)


def latest_version(conn: psycopg.Connection[Any], workflow: dict[str, Any]) -> dict[str, Any]:
    row = _version_row(conn, workflow["id"], workflow["latest_version"])
    assert row is not None, f"workflow {workflow['id']} has no version {workflow['latest_version']}"
    return row


def version_by_id(conn: psycopg.Connection[Any], version_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM workflow_versions WHERE id = %s", (version_id,)).fetchone()
    if row is None:
        raise NotFound(f"workflow version {version_id} not found")
    return row


def _as_uuid(ref: str | uuid.UUID) -> uuid.UUID | None:
    if isinstance(ref, uuid.UUID):
        return ref
    try:
        return uuid.UUID(str(ref))
    except ValueError:
        return None
