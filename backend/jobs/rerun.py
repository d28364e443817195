"""Re-run from a chosen step: which steps of the original a new run reuses (their outputs are
copied, recorded as reused with a link to where they came from, and never run again), and the
input patch (RFC 7386 JSON merge patch) applied to the original's input."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from backend.errors import InvalidInput, InvalidTransition
from backend.jobs.rows import StepRow
from backend.jobs.states import StepStatus
from backend.workflows.definition import WorkflowDefinition, ancestors

REUSABLE = frozenset({StepStatus.COMPLETED, StepStatus.SKIPPED})


@dataclass(frozen=True)
class Reuse:
    """The steps a new job copies from `source_job_id` instead of running them."""

    source_job_id: uuid.UUID
    keys: frozenset[str]


def downstream(definition: WorkflowDefinition, key: str) -> set[str]:
    """`key` and every step that depends on it, directly or not."""
    return {key} | {s.key for s in definition.steps if key in ancestors(definition, s.key)}


def plan_reuse(
    definition: WorkflowDefinition, source_job_id: uuid.UUID, steps: list[StepRow], from_step: str
) -> Reuse:
    """Reuse every finished step outside `from_step`'s downstream. A step upstream of
    `from_step` that did not complete cannot be reused (409): resume that job instead."""
    keys = [s.key for s in definition.steps]
    if from_step not in keys:
        msg = f"no step {from_step!r} in this workflow version; steps: {', '.join(keys)}"
        raise InvalidInput(msg, [{"loc": ["body", "from_step"], "msg": msg}])
    rerun = downstream(definition, from_step)
    upstream = ancestors(definition, from_step)
    by_key = {s.step_key: s for s in steps}
    reused: set[str] = set()
    for key in keys:
        status = by_key[key].status if key in by_key else None
        if key in rerun:
            continue
        if status in REUSABLE:
            reused.add(key)
        elif key in upstream:
            raise InvalidTransition(
                f"step {key!r} (upstream of {from_step!r}) is {status} in job {source_job_id}: "
                "only completed or skipped steps can be reused; resume that job instead",
                {"step": key, "status": status},
            )
    return Reuse(source_job_id, frozenset(reused))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, `null` removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
