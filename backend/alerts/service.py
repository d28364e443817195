"""Alert rules: create and delete them, and `emit`, which every source of alerts calls: each
enabled rule of the kind that covers the workflow notes the subject once; outside its quiet
period it queues a delivery on each of its channels, inside it counts the match as suppressed
(the next message says how many), so a storm sends one message."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from backend.alerts import queries
from backend.alerts.rows import RuleRow
from backend.alerts.schemas import RuleCreate
from backend.errors import Conflict, InvalidInput
from backend.notify import queries as channels
from backend.workflows import queries as workflows


def create_rule(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, spec: RuleCreate
) -> RuleRow:
    workflow_ids = [str(workflows.find_workflow(conn, workspace_id, w).id) for w in spec.workflows]
    known = channels.existing_channels(conn, workspace_id, spec.channels)
    unknown = [
        {"loc": ["channels", i], "msg": "no such channel in this workspace"}
        for i, c in enumerate(spec.channels)
        if c not in known
    ]
    if unknown:
        raise InvalidInput("the rule names channels that do not exist", unknown)
    if queries.name_taken(conn, workspace_id, spec.name):
        raise Conflict(
            f"an alert rule named {spec.name!r} exists",
            [{"loc": ["name"], "msg": "already used in this workspace"}],
        )
    values = {
        "id": uuid.uuid4(),
        "workspace_id": workspace_id,
        "name": spec.name,
        "kind": spec.kind.value,
        "params": spec.params.model_dump(exclude_none=True),
        "workflow_ids": workflow_ids,
        "channel_ids": [str(c) for c in spec.channels],
        "quiet_seconds": spec.quiet_seconds,
        "enabled": spec.enabled,
    }
    return queries.get_rule(conn, workspace_id, queries.insert_rule(conn, values))


def delete_rule(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, rule_id: uuid.UUID
) -> RuleRow:
    row = queries.get_rule(conn, workspace_id, rule_id)
    queries.delete_rule(conn, row.id)
    return row


def emit(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    kind: str,
    workflow_id: uuid.UUID | None,
    subject: str,
    message: str,
    data: dict[str, Any],
    applies: Callable[[RuleRow], bool] = lambda rule: True,
) -> int:
    """Alert every matching rule about `subject`; the number of messages queued."""
    sent = 0
    for rule in queries.rules_for(conn, workspace_id, kind, workflow_id):
        if applies(rule) and notify(conn, rule, subject, message, data):
            sent += 1
    return sent


def notify(
    conn: psycopg.Connection[Any], rule: RuleRow, subject: str, message: str, data: dict[str, Any]
) -> bool:
    """One rule, one subject: queue the message unless the rule already saw the subject or is
    in its quiet period. The caller holds the rule's row lock."""
    quiet = queries.in_quiet_period(conn, rule)
    if not queries.note(conn, rule.id, subject, sent=not quiet):
        return False
    queries.mark(conn, rule.id, sent=not quiet)
    if quiet:
        return False
    more = f" (+{rule.suppressed} more during the quiet period)" if rule.suppressed else ""
    payload = {
        "event": f"alert.{rule.kind}",
        "rule": rule.name,
        "kind": rule.kind,
        "subject": subject,
        "message": message,
        "suppressed": rule.suppressed,
        "data": data,
        "text": f"[{rule.name}] {message}{more}",
    }
    ids = [uuid.UUID(c) for c in rule.channel_ids]
    channels.enqueue(conn, rule.workspace_id, ids, f"alert.{rule.kind}", payload)
    return True
