"""Run audit: a workflow may name a snapshot function that returns a small JSON
document of counts describing the state it works on, and an expected-work function that
estimates, from the job's input, what a run will process (counts per stage). The engine records
both before the job's first step (`state_before`, `expected_work`, inside the claim that starts
the job, so no step can run first) and the snapshot after the job ends (`state_after`, once the
final transaction has committed), with the numeric `delta`. A resumed job keeps its first
`state_before` and `expected_work`; each start (the first run and every resume) appends a
segment with its own before, after and delta, so the job's delta is first-before to last-after.
A function that fails is recorded as {"error": ...}; it never fails the job."""

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


def expect(name: str | None, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Run the registered expected-work function `name` on a job input; None when there is none."""
    if not name:
        return None
    fn = REGISTRY.expected_work.get(name)
    if fn is None:
        load_step_modules(get_settings().step_modules)
        fn = REGISTRY.expected_work.get(name)
    if fn is None:
        return {"error": f"no expected_work function registered as {name!r} in this process"}
    try:
        return dict(fn(dict(payload)))
    except Exception as exc:
        log.warning("expected_work %s failed: %s", name, exc)
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


def save_before(
    conn: psycopg.Connection[Any],
    job_id: uuid.UUID,
    name: str | None,
    expected_name: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """At a job's start (also a resumed job's): the first before-state and estimate stay, and
    a new segment begins."""
    state = take(name)
    expected = expect(expected_name, payload or {})
    conn.execute(
        """
        UPDATE jobs SET state_before = coalesce(state_before, %(state)s::jsonb),
                        expected_work = coalesce(expected_work, %(expected)s::jsonb),
                        run_segments = coalesce(run_segments, '[]'::jsonb) || jsonb_build_array(
                            jsonb_build_object('started_at', now(), 'state_before', %(state)s::jsonb))
        WHERE id = %(id)s
        """,
        {"state": _json(state), "expected": _json(expected), "id": job_id},
    )


def _json(value: Any) -> Jsonb | None:
    return None if value is None else Jsonb(value)


_AUDITED_SQL = """
    SELECT v.definition->>'snapshot' AS name, v.definition->>'expected_work' AS expected,
           j.state_before, j.run_segments->-1->'state_before' AS segment_before
    FROM jobs j JOIN workflow_versions v ON v.id = j.workflow_version_id WHERE j.id = %s
"""


def note_ended(conn: psycopg.Connection[Any], job_id: uuid.UUID, ended: list[uuid.UUID]) -> None:
    """In the transaction that ends a job: remember it for an after-snapshot (taken once that
    transaction has committed) if its workflow is audited (a snapshot or expected-work function)."""
    row = conn.execute(_AUDITED_SQL, (job_id,)).fetchone()
    if row is not None and (row["name"] or row["expected"]):
        ended.append(job_id)


def save_after(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> None:
    """For a job that has ended: take the after-snapshot if its workflow has one, and close
    the current segment with its status, after-state and delta."""
    row = conn.execute(_AUDITED_SQL, (job_id,)).fetchone()
    if row is None or not (row["name"] or row["expected"]):
        return
    state = take(row["name"])
    conn.execute(
        """
        UPDATE jobs SET state_after = %(state)s::jsonb, delta = %(delta)s::jsonb,
               run_segments = CASE WHEN jsonb_typeof(run_segments) = 'array'
                                        AND jsonb_array_length(run_segments) > 0
                 THEN jsonb_set(run_segments, '{-1}', (run_segments->-1) || jsonb_build_object(
                        'ended_at', coalesce(completed_at, now()), 'status', status,
                        'state_after', %(state)s::jsonb, 'delta', %(segment_delta)s::jsonb))
                 ELSE run_segments END
        WHERE id = %(id)s
        """,
        {
            "state": _json(state),
            "delta": _json(delta(row["state_before"], state)),
            "segment_delta": _json(delta(row["segment_before"], state)),
            "id": job_id,
        },
    )
