"""Continuous workflows: create, enable/disable, delete. The scheduler's side is check.py."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import psycopg

from backend.continuous import queries
from backend.continuous.rows import ContinuousRow
from backend.continuous.schemas import ContinuousCreate
from backend.errors import Conflict, InvalidInput
from backend.settings import get_settings
from backend.steps import REGISTRY, load_step_modules
from backend.workflows import queries as workflows
from backend.workflows.input_schema import validate as validate_input

log = logging.getLogger(__name__)


def create(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, spec: ContinuousCreate
) -> ContinuousRow:
    workflow = workflows.find_workflow(conn, workspace_id, spec.workflow)
    problems = validate_input(
        workflows.latest_version(conn, workflow).input_schema, spec.input_payload
    )
    if _known_functions() is not None and spec.expected_work not in REGISTRY.expected_work:
        problems.append(
            {
                "loc": ["expected_work"],
                "msg": "no expected_work function of this name is registered",
            }
        )
    if problems:
        raise InvalidInput("the continuous workflow cannot be checked or started", problems)
    if queries.exists_for(conn, workflow.id):
        raise Conflict(
            f"workflow {workflow.name} is already continuous",
            [{"loc": ["workflow"], "msg": "already continuous"}],
        )
    values = spec.model_dump(mode="json") | {
        "id": uuid.uuid4(),
        "workspace_id": workspace_id,
        "workflow_id": workflow.id,
    }
    return queries.get(conn, workspace_id, queries.insert(conn, values))


def set_enabled(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ident: uuid.UUID, enabled: bool | None
) -> ContinuousRow:
    row = queries.get(conn, workspace_id, ident)
    if enabled is not None:
        queries.set_enabled(conn, row.id, enabled)
    return queries.get(conn, workspace_id, ident)


def delete(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, ident: uuid.UUID
) -> ContinuousRow:
    row = queries.get(conn, workspace_id, ident)
    queries.delete(conn, row.id)
    return row


def _known_functions() -> set[str] | None:
    """The registered names, after importing the step modules; None when they cannot be
    imported here (then names are checked when the scheduler calls them)."""
    try:
        load_step_modules(get_settings().step_modules)
    except Exception as exc:  # user code must not break the API
        log.warning("step modules could not be imported; expected_work is not checked: %s", exc)
        return None
    return set(REGISTRY.expected_work)
