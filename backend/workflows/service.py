"""Registering workflows. Functions take a psycopg connection; the caller commits. The SQL
is in backend/workflows/queries.py."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from backend import payload_limits
from backend.steps import REGISTRY
from backend.workflows import queries
from backend.workflows.definition import parse_definition


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
    project_id: str | None = None,
) -> Registered:
    """Store a definition as a new workflow, or as its next version when it changed.
    Registering the same definition twice creates nothing (seeding is idempotent).
    `project_id` tags the workflow (new ones are tagged `default` without it)."""
    payload_limits.check_input(document, field="definition")
    actions = REGISTRY.steps.keys() if check_actions else None
    definition = parse_definition(document, actions)
    workflow = queries.upsert_workflow(
        conn, workspace_id, definition.name, definition.description, project_id
    )
    latest = workflow.latest_version
    current = queries.version(conn, workflow.id, latest) if latest else None
    if current is not None and current.definition_hash == definition.content_hash():
        written = (definition.input_schema, definition.model_dump(mode="json"))
        if _key_order((current.input_schema, current.document)) != _key_order(written):
            queries.restore_written_order(conn, current.id, definition)
        return Registered(workflow.id, current.id, latest, created=False)
    version_id = queries.add_version(conn, workflow.id, latest + 1, definition)
    return Registered(workflow.id, version_id, latest + 1, created=True)


def _key_order(document: Any) -> str:
    """The document's text with its keys in their order (two equal documents whose texts
    differ differ only in key order)."""
    return json.dumps(document, separators=(",", ":"))
