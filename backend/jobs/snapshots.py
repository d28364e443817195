"""Run audit: a workflow may name a snapshot function that returns a small JSON
document of counts describing the state it works on. The engine records it before the job's
first step (`state_before`, inside the claim that starts the job, so no step can run first)
and after the job ends (`state_after`, once the final transaction has committed), with the
numeric `delta`. A snapshot that fails is recorded as {"error": ...}; it never fails the job."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from backend.settings import get_settings
from backend.steps import REGISTRY, load_step_modules

log = logging.getLogger(__name__)


def take(name: str | None) -> dict[str, Any] | None:
    """Run the registered snapshot function `name`; None when there is none."""
    if not name:
        return None
    fn = REGISTRY.snapshots.get(name)
    if fn is None:  # e.g. the API ending a job by a cancel: import the configured modules
        load_step_modules(get_settings().step_modules)
        fn = REGISTRY.snapshots.get(name)
    if fn is None:
        return {"error": f"no snapshot function registered as {name!r} in this process"}
    try:
        return dict(fn())
    except Exception as exc:
        log.warning("snapshot %s failed: %s", name, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}


def delta(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any] | None:
    """after - before for every numeric key present in both."""
    if not before or not after:
        return None
    return {
        key: after[key] - before[key]
        for key in before
        if key in after and _number(before[key]) and _number(after[key])
    }


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def save_before(conn: psycopg.Connection[Any], job_id: uuid.UUID, name: str | None) -> None:
    state = take(name)
    if state is not None:
        conn.execute("UPDATE jobs SET state_before = %s WHERE id = %s", (Jsonb(state), job_id))


def note_ended(conn: psycopg.Connection[Any], job_id: uuid.UUID, ended: list[uuid.UUID]) -> None:
    """In the transaction that ends a job: remember it for an after-snapshot (taken once that
    transaction has committed) if its workflow has a snapshot function."""
    row = conn.execute(
        """
        SELECT v.definition->>'snapshot' AS name FROM jobs j
        JOIN workflow_versions v ON v.id = j.workflow_version_id WHERE j.id = %s
        """,
        (job_id,),
    ).fetchone()
    if row is not None and row["name"]:
        ended.append(job_id)


def save_after(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> None:
    """For a job that has ended: take the after-snapshot if its workflow has one."""
    row = conn.execute(
        """
        SELECT v.definition->>'snapshot' AS name, j.state_before FROM jobs j
        JOIN workflow_versions v ON v.id = j.workflow_version_id WHERE j.id = %s
        """,
        (job_id,),
    ).fetchone()
    if row is None or not row["name"]:
        return
    state = take(row["name"])
    conn.execute(
        "UPDATE jobs SET state_after = %s, delta = %s WHERE id = %s",
        (Jsonb(state), Jsonb(delta(row["state_before"], state)), job_id),
    )
