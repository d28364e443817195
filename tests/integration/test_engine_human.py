"""Steps that wait for a person, on real workers: manual steps (execute with a payload,
idempotency, 409 rules, repeatable) and review gates (decisions, patches, submit, output
downstream, cancel while waiting, resume after a failure downstream keeps the review)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from backend.errors import IdempotencyConflict, InvalidInput, InvalidTransition
from backend.jobs import manual, service
from backend.reviews import queries as reviews
from backend.reviews import service as review_service
from tests.integration.conftest import Engine


@dataclass(frozen=True)
class Person:
    workspace_id: uuid.UUID
    actor: str = "token:alice (jm_test)"


MANUAL = {
    "name": "manual",
    "steps": [
        {"key": "first", "action": "test.noop"},
        {
            "key": "ask",
            "action": "test.payload",
            "run": "manual",
            "depends_on": ["first"],
            "input_schema": {
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": 1}, "mode": {"default": "x"}},
                "required": ["n"],
            },
        },
        {"key": "last", "action": "test.upstream", "depends_on": ["ask"]},
    ],
}

GATED = {
    "name": "gated",
    "steps": [
        {"key": "propose", "action": "test.items", "run": "manual", "repeatable": True},
        {
            "key": "gate",
            "run": "review",
            "items_from": "propose",
            "depends_on": ["propose"],
            "editable": {"label": {"type": "string", "maxLength": 20}},
        },
        {"key": "use", "action": "test.upstream", "depends_on": ["gate"]},
    ],
}


def settle(engine: Engine, job_id: uuid.UUID, rounds: int = 3) -> dict[str, dict[str, Any]]:
    """Run whatever is queued, a few times over; the steps afterwards."""
    for _ in range(rounds):
        engine.work()
    return engine.steps(job_id)


def execute(
    engine: Engine, job_id: uuid.UUID, step: str, payload: Any, key: str | None = None
) -> manual.Executed:
    executed: manual.Executed = engine.act(
        lambda conn, ws, outbox: manual.execute_step(
            conn, Person(ws), job_id, step, payload, outbox, key
        )
    )
    return executed


def test_a_manual_step_waits_until_a_person_executes_it(engine: Engine) -> None:
    engine.register(MANUAL)
    job_id = engine.create("manual")
    steps = settle(engine, job_id)
    assert (steps["first"]["status"], steps["ask"]["status"]) == ("completed", "waiting")
    assert steps["last"]["status"] == "pending" and engine.attempts(job_id, "ask") == []
    job = engine.job(job_id)
    assert job["status"] == "running" and job["waiting_for"] == "manual"
    assert job["current_step"] == "Ask"
    assert [e["type"] for e in engine.events(job_id)].count("step_waiting") == 1

    with pytest.raises(InvalidInput) as bad:
        execute(engine, job_id, "ask", {"n": "two"})
    assert bad.value.details[0]["loc"] == ["payload", "n"]
    with pytest.raises(InvalidTransition, match="not a manual step"):
        execute(engine, job_id, "last", {})
    first = execute(engine, job_id, "ask", {"n": 2}, key="k1")
    assert not first.replayed and first.attempt_number == 1
    again = execute(engine, job_id, "ask", {"n": 2}, key="k1")
    assert again.replayed and again.attempt_id == first.attempt_id
    with pytest.raises(IdempotencyConflict):
        execute(engine, job_id, "ask", {"n": 3}, key="k1")
    with pytest.raises(InvalidTransition, match="already running"):
        execute(engine, job_id, "ask", {"n": 3}, key="k2")

    job = engine.drain(job_id)
    steps = engine.steps(job_id)
    assert job["status"] == "completed" and job["waiting_for"] is None
    assert steps["ask"]["output_data"] == {"payload": {"n": 2, "mode": "x"}, "attempt": 1}
    assert steps["last"]["output_data"]["upstream"]["ask"]["payload"]["n"] == 2
    (attempt,) = engine.attempts(job_id, "ask")
    assert attempt["idempotency_key"] == "k1" and attempt["executed_by"] == Person.actor
    with pytest.raises(InvalidTransition, match="completed"):
        execute(engine, job_id, "ask", {"n": 5})


def test_a_step_that_is_not_ready_or_done_cannot_be_executed(engine: Engine) -> None:
    engine.register(MANUAL)
    job_id = engine.create("manual")
    with pytest.raises(InvalidTransition, match="not ready"):
        execute(engine, job_id, "ask", {"n": 1})
    settle(engine, job_id)
    execute(engine, job_id, "ask", {"n": 1})
    engine.drain(job_id)
    with pytest.raises(InvalidTransition, match="completed: its steps cannot run"):
        execute(engine, job_id, "ask", {"n": 1}, key="new")


def review_of(engine: Engine, job_id: uuid.UUID) -> Any:
    with engine.conn.transaction():
        return reviews.get_review(engine.conn, engine.workspace_id, job_id)


def decide(engine: Engine, job_id: uuid.UUID, ids: list[str], decision: str) -> Any:
    return engine.act(
        lambda conn, ws, outbox: review_service.decide_items(
            conn, Person(ws), job_id, ids, decision, "looks right"
        )
    )


def submit(engine: Engine, job_id: uuid.UUID, undecided: str = "refuse") -> Any:
    return engine.act(
        lambda conn, ws, outbox: review_service.submit_review(
            conn, Person(ws), job_id, outbox, undecided
        )
    )


def gated_job(engine: Engine, **payload: Any) -> uuid.UUID:
    engine.register(GATED)
    job_id = engine.create("gated", payload)
    execute(engine, job_id, "propose", {})
    steps = settle(engine, job_id)
    assert steps["gate"]["status"] == "waiting"
    return job_id


def test_a_gate_blocks_downstream_until_submit_and_passes_the_decisions(engine: Engine) -> None:
    job_id = gated_job(engine)
    assert engine.job(job_id)["draft_state"] == "proposed"
    assert engine.job(job_id)["waiting_for"] == "review"
    review = review_of(engine, job_id)
    assert (review.total, review.undecided, review.status) == (4, 4, "open")

    _, results = decide(engine, job_id, ["i1", "i2", "nope"], "approve")
    assert [r.ok for r in results] == [True, True, False]
    assert engine.job(job_id)["draft_state"] == "in_review"
    decide(engine, job_id, ["i3"], "reject")
    engine.act(
        lambda conn, ws, outbox: review_service.patch_item(
            conn, Person(ws), job_id, "i2", {"label": "renamed"}
        )
    )
    with pytest.raises(InvalidInput) as bad:
        engine.act(
            lambda conn, ws, outbox: review_service.patch_item(
                conn, Person(ws), job_id, "i2", {"score": 9, "label": 5}
            )
        )
    locs = [p["loc"] for p in bad.value.details]
    assert ["body", "score"] in locs and ["label"] in locs
    steps = settle(engine, job_id)
    assert steps["use"]["status"] == "pending" and steps["gate"]["status"] == "waiting"
    with pytest.raises(InvalidTransition, match="1 item"):
        submit(engine, job_id)

    submit(engine, job_id, undecided="reject")
    assert engine.job(job_id)["draft_state"] == "approved"
    job = engine.drain(job_id)
    assert job["status"] == "completed" and job["draft_state"] == "applied"
    gate_output = engine.steps(job_id)["use"]["output_data"]["upstream"]["gate"]
    decisions = {i["id"]: (i["decision"], i["label"]) for i in gate_output["items"]}
    assert decisions == {
        "i1": ("approved", "item 1"),
        "i2": ("approved", "renamed"),
        "i3": ("rejected", "item 3"),
        "i4": ("rejected", "item 4"),
    }
    audit = engine.conn.execute(
        "SELECT action, target_id, status_before, status_after, data FROM audit_log"
        " WHERE target_type = 'review_item' ORDER BY id"
    ).fetchall()
    assert [(a["action"], a["target_id"]) for a in audit] == [
        ("review.approve", "i1"),
        ("review.approve", "i2"),
        ("review.reject", "i3"),
        ("review.patch", "i2"),
    ]
    assert audit[0]["status_before"] is None and audit[0]["status_after"] == "approved"
    assert audit[3]["data"]["before"] == {"label": "item 2"}
    assert audit[3]["data"]["after"] == {"label": "renamed"}
    with pytest.raises(InvalidTransition):
        decide(engine, job_id, ["i4"], "approve")


def test_a_job_waiting_at_a_gate_can_be_cancelled(engine: Engine) -> None:
    job_id = gated_job(engine)
    engine.act(service.cancel_job, job_id)
    steps = engine.steps(job_id)
    assert steps["gate"]["status"] == "cancelled" and steps["use"]["status"] == "cancelled"
    assert engine.job(job_id)["status"] == "cancelled"
    assert engine.job(job_id)["waiting_for"] is None
    with pytest.raises(InvalidTransition, match="cancelled"):
        decide(engine, job_id, ["i1"], "approve")


def test_resume_after_a_failure_downstream_of_a_gate_keeps_the_review(engine: Engine) -> None:
    job_id = gated_job(engine, fail_after_gate=1)
    decide(engine, job_id, ["i1", "i2"], "approve")
    decide(engine, job_id, ["i3", "i4"], "reject")
    submit(engine, job_id)
    failed = engine.drain(job_id)
    assert failed["status"] == "failed"
    engine.act(service.resume_job, job_id)
    job = engine.drain(job_id)
    assert job["status"] == "completed"
    steps = engine.steps(job_id)
    assert steps["gate"]["attempt_count"] == 1  # the gate did not wait or run again
    review = review_of(engine, job_id)
    assert (review.status, review.approved, review.rejected) == ("submitted", 2, 2)
    items = steps["use"]["output_data"]["upstream"]["gate"]["items"]
    assert [i["id"] for i in items if i["decision"] == "approved"] == ["i1", "i2"]


def test_a_repeatable_step_runs_again_and_its_gate_reviews_the_new_items(engine: Engine) -> None:
    job_id = gated_job(engine, items=2)
    decide(engine, job_id, ["i1"], "approve")
    engine.conn.execute(
        "UPDATE jobs SET input_payload = input_payload || '{\"items\": 3}' WHERE id = %s",
        (job_id,),
    )
    execute(engine, job_id, "propose", {}, key="second")
    assert engine.steps(job_id)["gate"]["status"] == "pending"
    assert engine.job(job_id)["draft_state"] == "none"
    steps = settle(engine, job_id)
    assert steps["gate"]["status"] == "waiting" and steps["propose"]["attempt_count"] == 2
    review = review_of(engine, job_id)
    assert (review.total, review.approved) == (3, 0)
    assert [a["attempt_number"] for a in engine.attempts(job_id, "propose")] == [1, 2]
    submit(engine, job_id, undecided="reject")
    engine.drain(job_id)
    with pytest.raises(InvalidTransition, match="completed: its steps"):
        execute(engine, job_id, "propose", {}, key="third")
