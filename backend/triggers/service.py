"""Triggers: create, enable/disable, delete, and the feed consumer that fires them.

Loop protection: a fired job remembers the chain of triggers that led to it. A trigger already
in the chain of the job that ended does not fire again (A -> B -> A stops at the second A),
and no chain grows past `JOBMONITOR_CHAIN_MAX_DEPTH`; either is recorded as a `loop` fire.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from backend.automation.feed import FeedEvent
from backend.automation.start import start_job
from backend.errors import Conflict, InvalidInput
from backend.jobs import queries as jobs_queries
from backend.jobs.outbox import Outbox
from backend.settings import get_settings
from backend.triggers import mapping, queries
from backend.triggers.rows import EVENT_ON, TriggerRow
from backend.triggers.schemas import TriggerCreate
from backend.workflows import queries as workflows
from backend.workflows.definition import WorkflowDefinition


def create_trigger(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, spec: TriggerCreate
) -> TriggerRow:
    source = workflows.find_workflow(conn, workspace_id, spec.source_workflow)
    target = workflows.find_workflow(conn, workspace_id, spec.target_workflow)
    definition = WorkflowDefinition.model_validate(
        workflows.latest_version(conn, source).definition
    )
    steps = {s.key for s in definition.steps}
    problems = [
        {"loc": ["input_mapping", key], "msg": problem}
        for key, value in spec.input_mapping.items()
        if mapping.is_path(value) and (problem := mapping.path_problem(value, steps))
    ]
    if problems:
        raise InvalidInput("input_mapping has paths that cannot be read", problems)
    if queries.name_taken(conn, workspace_id, spec.name):
        raise Conflict(
            f"a trigger named {spec.name!r} exists",
            [{"loc": ["name"], "msg": "already used in this workspace"}],
        )
    trigger_id = queries.insert_trigger(
        conn,
        {
            "id": uuid.uuid4(),
            "workspace_id": workspace_id,
            "name": spec.name,
            "source": source.id,
            "on": spec.on.value,
            "target": target.id,
            "mapping": spec.input_mapping,
            "enabled": spec.enabled,
        },
    )
    return queries.get_trigger(conn, workspace_id, trigger_id)


def set_enabled(
    conn: psycopg.Connection[Any],
    workspace_id: uuid.UUID,
    trigger_id: uuid.UUID,
    enabled: bool | None,
) -> TriggerRow:
    row = queries.get_trigger(conn, workspace_id, trigger_id)
    if enabled is not None:
        queries.set_enabled(conn, row.id, enabled)
    return queries.get_trigger(conn, workspace_id, trigger_id)


def delete_trigger(
    conn: psycopg.Connection[Any], workspace_id: uuid.UUID, trigger_id: uuid.UUID
) -> TriggerRow:
    row = queries.get_trigger(conn, workspace_id, trigger_id)
    queries.delete_trigger(conn, row.id)
    return row


def on_event(conn: psycopg.Connection[Any], event: FeedEvent, outbox: Outbox) -> None:
    """The feed consumer: a job that completed or failed fires its workflow's triggers."""
    on = EVENT_ON.get(event.type)
    if on is None:
        return
    for trigger in queries.triggers_for(conn, event.workflow_id, tuple(on)):
        _fire(conn, trigger, event.job_id, outbox)


def _fire(
    conn: psycopg.Connection[Any], trigger: TriggerRow, source_job: uuid.UUID, outbox: Outbox
) -> None:
    parent = queries.chain_of(conn, source_job)
    chain = [*parent, str(trigger.id)]
    fire_id = queries.claim_fire(conn, trigger, source_job, chain)
    if fire_id is None:
        return
    limit = get_settings().chain_max_depth
    if str(trigger.id) in parent or len(chain) > limit:
        reason = (
            f"loop protection: trigger {trigger.name} already fired in this chain"
            if str(trigger.id) in parent
            else f"loop protection: the chain is longer than {limit} triggers"
        )
        queries.settle_fire(conn, fire_id, "loop", None, reason)
        return
    job = jobs_queries.get_job(conn, source_job, workspace_id=trigger.workspace_id)
    steps = jobs_queries.list_steps(conn, trigger.workspace_id, source_job)
    payload, missing = mapping.apply(trigger.input_mapping, mapping.document(job, steps))
    if missing:
        queries.settle_fire(conn, fire_id, "refused", None, "; ".join(missing))
        return
    key = f"trigger:{trigger.id}:{source_job}"
    started = start_job(
        conn, trigger.workspace_id, trigger.target_workflow_id, payload, outbox, key
    )
    status = "started" if started.job_id else "refused"
    queries.settle_fire(conn, fire_id, status, started.job_id, started.refusal)
