"""The scheduler's sources of alerts: the feed of job events (a job failed, a job completed
after its workflow's previous job failed, a step failed more than N times, a failed job
opened a failure group) and the scan of running jobs (longer than X, longer than k x the
workflow's p95, no event for X)."""

from __future__ import annotations

from typing import Any

import psycopg

from backend.alerts import queries
from backend.alerts.rows import Kind, Match, RuleRow
from backend.alerts.service import emit, notify
from backend.automation.contain import contained
from backend.automation.feed import FeedEvent
from backend.jobs import queries as jobs
from backend.jobs.outbox import Outbox

SCANNED = [Kind.RUN_LONGER_THAN, Kind.RUN_LONGER_THAN_P95, Kind.STUCK]


def on_event(conn: psycopg.Connection[Any], event: FeedEvent, outbox: Outbox) -> None:
    """The feed consumer."""
    if event.type == "workflow_failed":
        job = jobs.get_job(conn, event.job_id, payloads=False)
        message = f"job {job.id} of {job.workflow_name} failed: {job.error_message}"
        data = {"job_id": str(job.id), "workflow": job.workflow_name, "error": job.error_message}
        emit(
            conn, event.workspace_id, Kind.JOB_FAILED, event.workflow_id, str(job.id), message, data
        )
        _groups_opened(conn, event)
    elif event.type == "workflow_completed":
        if queries.previous_outcome(conn, event.workflow_id, event.job_id) == "failed":
            job = jobs.get_job(conn, event.job_id, payloads=False)
            message = f"job {job.id} of {job.workflow_name} completed after a failed run"
            data = {"job_id": str(job.id), "workflow": job.workflow_name}
            emit(
                conn,
                event.workspace_id,
                Kind.JOB_RECOVERED,
                event.workflow_id,
                str(job.id),
                message,
                data,
            )
    elif event.type == "retrying" and event.step_key:
        _retried(conn, event)


def _retried(conn: psycopg.Connection[Any], event: FeedEvent) -> None:
    failures = queries.step_failures(conn, event.job_id, event.step_key or "", event.created_at)
    message = f"step {event.step_key} of job {event.job_id} failed {failures} times and is retried"
    data = {"job_id": str(event.job_id), "step": event.step_key, "failures": failures}
    emit(
        conn,
        event.workspace_id,
        Kind.STEP_RETRIED,
        event.workflow_id,
        f"{event.job_id}:{event.step_key}",
        message,
        data,
        applies=lambda rule: failures > int(rule.params.get("retries", 0)),
    )


def _groups_opened(conn: psycopg.Connection[Any], event: FeedEvent) -> None:
    for group in queries.groups_opened(conn, event.job_id):
        how = "reopened" if group.reopened else "opened"
        error = f"{group.error_type}: {group.message}" if group.error_type else group.message
        message = (
            f"failure group {group.fingerprint} {how} by job {event.job_id}: step"
            f" {group.step_key} of {group.workflow_name} failed with {error}"
            f" ({group.count} failures)"
        )
        data = {
            "fingerprint": group.fingerprint,
            "job_id": str(event.job_id),
            "workflow": group.workflow_name,
            "step": group.step_key,
            "error_type": group.error_type,
            "message": group.message,
            "count": group.count,
            "reopened": group.reopened,
        }
        subject = f"{group.fingerprint}:{group.opening.isoformat()}"
        emit(
            conn,
            event.workspace_id,
            Kind.FAILURE_GROUP_OPENED,
            event.workflow_id,
            subject,
            message,
            data,
        )


def scan(conn: psycopg.Connection[Any]) -> int:
    """One pass over the scanning rules; the number of messages queued. `conn` is not inside
    a transaction: each rule commits on its own."""
    sent = 0
    for listed in queries.enabled_rules(conn, [k.value for k in SCANNED]):
        with contained(f"alert rule {listed.id}"), conn.transaction():
            rule = queries.lock_rule(conn, listed.id)
            if rule is None:
                continue
            for match in _matches(conn, rule):
                current = queries.lock_rule(conn, rule.id)
                assert current is not None
                message, data = _describe(current, match)
                sent += notify(conn, current, str(match.job_id), message, data)
    return sent


def _matches(conn: psycopg.Connection[Any], rule: RuleRow) -> list[Match]:
    p = rule.params
    if rule.kind == Kind.RUN_LONGER_THAN:
        return queries.running_longer(conn, rule, float(p["seconds"]))
    if rule.kind == Kind.RUN_LONGER_THAN_P95:
        return queries.slower_than_usual(
            conn, rule, float(p["factor"]), int(p.get("min_samples", 5))
        )
    return queries.silent(conn, rule, float(p["seconds"]))


def _describe(rule: RuleRow, match: Match) -> tuple[str, dict[str, Any]]:
    job = f"job {match.job_id} of {match.workflow_name}"
    if rule.kind == Kind.STUCK:
        message = f"{job} has had no progress for {match.seconds:.0f} s"
    elif rule.kind == Kind.RUN_LONGER_THAN_P95:
        message = f"{job} has run {match.seconds:.1f} s, more than {rule.params['factor']:g} x its p95 ({match.p95:.2f} s)"
    else:
        message = f"{job} has run {match.seconds:.0f} s (limit {rule.params['seconds']:g} s)"
    data = {"job_id": str(match.job_id), "workflow": match.workflow_name, "seconds": match.seconds}
    return message, data | ({"p95": match.p95} if match.p95 is not None else {})
