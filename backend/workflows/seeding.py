"""Loading the example workflows into a workspace: `jobmonitor seed` and
`python -m backend.scripts.seed_workflows` are this one function.

A project is not a scope in Jobmonitor (workflows, jobs and tokens belong to a workspace):
`project_id` is a tag stored on the workflows seeding registers (`default` without one), shown
by the workflow routes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from backend.auth.service import create_workspace_if_missing, find_workspace
from backend.db import connect
from backend.errors import InvalidInput, NotFound
from backend.settings import get_settings
from backend.steps import load_step_modules
from backend.workflows import queries
from backend.workflows.definition import load_document
from backend.workflows.service import register_workflow
from examples import workflow_files

PROJECT_ID_MAX = 100


@dataclass(frozen=True)
class Seeded:
    name: str
    outcome: str  # registered, unchanged or skipped (exists, --skip-existing)

    def line(self) -> str:
        return f"{self.outcome:<10} {self.name}"


def seed_examples(
    workspace: str | None = "default",
    *,
    workspace_id: str | None = None,
    project_id: str | None = None,
    skip_existing: bool = False,
) -> list[Seeded]:
    """Register the example workflows, in one transaction. The workspace is `workspace_id`
    (an existing workspace's id) or the slug `workspace` (created when missing). Registering
    is idempotent: an unchanged definition creates nothing; `skip_existing` leaves every
    workflow that already exists (by name) untouched."""
    if project_id is not None and not 1 <= len(project_id) <= PROJECT_ID_MAX:
        raise InvalidInput(
            "project id must have 1-100 characters",
            [{"loc": ["project_id"], "msg": "1-100 characters"}],
        )
    load_step_modules(get_settings().step_modules)
    results = []
    with connect() as conn, conn.transaction():
        ws = _workspace_id(conn, workspace, workspace_id)
        for path in workflow_files():
            document = load_document(Path(path).read_text(), str(path))
            if skip_existing and _exists(conn, ws, document["name"]):
                results.append(Seeded(document["name"], "skipped"))
                continue
            done = register_workflow(conn, ws, document, project_id=project_id)
            results.append(Seeded(document["name"], "registered" if done.created else "unchanged"))
    return results


def _workspace_id(
    conn: psycopg.Connection[Any], slug: str | None, workspace_id: str | None
) -> uuid.UUID:
    if workspace_id is None:
        row, _ = create_workspace_if_missing(conn, slug or "default")
        return row.id
    try:
        parsed = uuid.UUID(workspace_id)
    except ValueError:
        raise InvalidInput(
            "workspace id is not a UUID", [{"loc": ["workspace_id"], "msg": "not a UUID"}]
        ) from None
    return find_workspace(conn, workspace_id=parsed).id


def _exists(conn: psycopg.Connection[Any], workspace_id: uuid.UUID, name: str) -> bool:
    try:
        queries.find_workflow(conn, workspace_id, name)
    except NotFound:
        return False
    return True
