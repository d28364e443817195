"""Pre-flight of one workflow (the run cookbook's checklist as one report): the state snapshot
now, the pending-work estimate, whether a global_batch start would be refused, stuck work,
the workers on its queue and their health, and recent failures by error type. Each check has
a verdict (ok, warn, fail); the report fails when any check fails."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

import psycopg
from redis import Redis
from redis.exceptions import RedisError

from backend.doctor import FAIL, OK, REAPER_SILENT, WARN, Check, last_reaper_pass, worker_health
from backend.jobs import queries as jobs
from backend.jobs import snapshots
from backend.runs import queries
from backend.runs.modes import RunMode
from backend.workflows import queries as workflows
from backend.workflows.definition import WorkflowDefinition, apply_defaults
from backend.workflows.rows import WorkflowRow

WAITING_TOO_LONG = 300.0  # seconds a pending job may wait before it counts as stuck


def preflight(
    conn: psycopg.Connection[Any],
    redis: Redis,
    workspace_id: uuid.UUID,
    workflow_ref: str,
    waiting_after: float = WAITING_TOO_LONG,
) -> dict[str, Any]:
    workflow = workflows.find_workflow(conn, workspace_id, workflow_ref)
    version = workflows.latest_version(conn, workflow)
    definition = WorkflowDefinition.model_validate(version.definition)
    payload = apply_defaults(version.input_schema, {})
    checks = [
        _snapshot(definition),
        _expected(definition, payload),
        _policy(conn, workflow, definition),
        _stuck(conn, workflow, waiting_after),
        _workers(redis),
        _failures(conn, workflow),
    ]
    verdicts = {c.verdict for c in checks}
    worst = next((v for v in (FAIL, WARN) if v in verdicts), OK)
    return {
        "workflow": workflow.name,
        "workflow_id": workflow.id,
        "version": version.version,
        "input": payload,
        "verdict": worst,
        "ok": worst != FAIL,
        "checks": [asdict(c) for c in checks],
    }


def _snapshot(definition: WorkflowDefinition) -> Check:
    if not definition.snapshot:
        return Check("snapshot", WARN, "the workflow names no snapshot: no before/after state")
    state = snapshots.take(definition.snapshot) or {}
    if "error" in state:
        return Check("snapshot", FAIL, f"{definition.snapshot} failed: {state['error']}")
    return Check("snapshot", OK, f"{definition.snapshot}: {_counts(state)}", {"state": state})


def _expected(definition: WorkflowDefinition, payload: dict[str, Any]) -> Check:
    if not definition.expected_work:
        return Check("expected work", WARN, "the workflow names no expected_work estimate")
    expected = snapshots.expect(definition.expected_work, payload) or {}
    if "error" in expected:
        return Check(
            "expected work", FAIL, f"{definition.expected_work} failed: {expected['error']}"
        )
    data = {"expected_work": expected}
    if not any(v for v in expected.values() if isinstance(v, int | float)):
        return Check("expected work", WARN, f"nothing pending: {_counts(expected)}", data)
    return Check("expected work", OK, _counts(expected), data)


def _policy(
    conn: psycopg.Connection[Any], workflow: WorkflowRow, definition: WorkflowDefinition
) -> Check:
    """Would a global_batch start now be refused (duplicate detection, rate limit)?"""
    policy = definition.concurrency
    mode = RunMode.GLOBAL_BATCH
    active = [str(j) for j in jobs.active_job_ids(conn, workflow.id, mode)]
    data: dict[str, Any] = {"policy": policy.model_dump(), "active_job_ids": active}
    if policy.max_concurrent_jobs is not None and len(active) >= policy.max_concurrent_jobs:
        return Check(
            "duplicate run", FAIL, f"job {active[-1]} is running ({mode}): a start is refused", data
        )
    if policy.min_seconds_between_starts is not None:
        last = jobs.seconds_until_start(conn, workflow.id, policy.min_seconds_between_starts, mode)
        if last is not None and last[1] > 0:
            data["retry_after_seconds"] = round(last[1], 1)
            return Check(
                "duplicate run",
                FAIL,
                f"job {last[0]} started less than {policy.min_seconds_between_starts:g} s ago: "
                f"a start is refused for {last[1]:.0f} s",
                data,
            )
    return Check("duplicate run", OK, f"no active {mode} run; a start is allowed", data)


def _stuck(conn: psycopg.Connection[Any], workflow: WorkflowRow, waiting_after: float) -> Check:
    expired = queries.expired_attempts(conn, workflow.id)
    waiting = queries.waiting_jobs(conn, workflow.id, waiting_after)
    data = {"attempts": expired, "waiting_jobs": waiting, "waiting_after_seconds": waiting_after}
    reaper = last_reaper_pass(conn)
    reaped = reaper is not None and reaper["silent_for"] <= REAPER_SILENT
    problems = []
    if expired:
        problems.append(f"{len(expired)} running attempt(s) past their lease")
    if waiting:
        problems.append(f"{len(waiting)} job(s) pending for more than {waiting_after:g} s")
    if not problems:
        return Check("stuck work", OK, "no attempt past its lease, no job waiting too long", data)
    if waiting or not reaped:
        return Check("stuck work", FAIL, "; ".join(problems), data)
    return Check("stuck work", WARN, f"{problems[0]}, for the reaper's next pass", data)


def _workers(redis: Redis) -> Check:
    try:
        health = worker_health(redis)
    except (RedisError, OSError) as exc:
        return Check("workers", FAIL, f"Redis does not answer: {exc}")
    data = {"queue": health.queue, "workers": health.live, "dead": health.dead}
    if health.live:
        detail = f"{len(health.live)} worker(s) alive on queue {health.queue}"
        if health.dead:
            return Check("workers", WARN, f"{detail}; {len(health.dead)} dead", data)
        return Check("workers", OK, detail, data)
    if health.starting:
        return Check("workers", WARN, f"workers starting on queue {health.queue}", data)
    return Check(
        "workers", FAIL, f"no worker on queue {health.queue}: run `jobmonitor worker`", data
    )


def _failures(conn: psycopg.Connection[Any], workflow: WorkflowRow) -> Check:
    by_type = queries.failures_by_type(conn, workflow.id)
    total = sum(by_type.values())
    detail = f"{total} failed attempt(s) in the last 24 h" + (
        ": " + ", ".join(f"{k} {n}" for k, n in by_type.items()) if by_type else ""
    )
    return Check("recent failures", WARN if total else OK, detail, {"by_error_type": by_type})


def _counts(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "(empty)"
