"""The state machine, exhaustively: every (from, to) pair of every kind against a real row."""

from __future__ import annotations

import itertools
import uuid

import psycopg
import pytest

from backend.jobs.states import (
    ALLOWED,
    ATTEMPT_TERMINAL,
    STATUSES,
    Kind,
    is_allowed,
    statement_count,
    transition,
)
from tests.integration.conftest import Engine, chain

TABLES = {Kind.JOB: "jobs", Kind.STEP: "job_steps", Kind.ATTEMPT: "step_attempts"}


@pytest.fixture
def rows(engine: Engine) -> dict[Kind, uuid.UUID]:
    engine.register(chain("one", "a", action="test.noop"))
    job_id = engine.create("one")
    step = engine.steps(job_id)["a"]
    attempt = engine.attempts(job_id, "a")[0]
    return {Kind.JOB: job_id, Kind.STEP: step["id"], Kind.ATTEMPT: attempt["id"]}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_pair(engine: Engine, rows: dict[Kind, uuid.UUID], kind: Kind) -> None:
    statuses = list(STATUSES[kind])
    conn = engine.conn
    for source, target in itertools.product(statuses, statuses):
        with pytest.raises(_Rollback), conn.transaction():
            conn.execute(
                f"UPDATE {TABLES[kind]} SET status = %s WHERE id = %s", (source, rows[kind])
            )
            allowed = is_allowed(kind, source, target)
            if target not in ALLOWED[kind]:
                with pytest.raises(ValueError):
                    transition(conn, kind, rows[kind], target)
                raise _Rollback
            result = transition(conn, kind, rows[kind], target)
            assert (result is not None) == allowed, (kind, source, target)
            status = conn.execute(
                f"SELECT status FROM {TABLES[kind]} WHERE id = %s", (rows[kind],)
            ).fetchone()
            assert status is not None
            assert status["status"] == (target if allowed else source)
            if result is not None:
                assert result.from_status == source
            raise _Rollback


def test_terminal_attempts_never_move() -> None:
    for source in ATTEMPT_TERMINAL:
        assert not any(is_allowed(Kind.ATTEMPT, source, t) for t in STATUSES[Kind.ATTEMPT])


def test_transition_writes_event_in_same_statement(
    engine: Engine, rows: dict[Kind, uuid.UUID]
) -> None:
    conn = engine.conn
    before = len(engine.events(rows[Kind.JOB]))
    with conn.transaction():
        moved = transition(
            conn, Kind.JOB, rows[Kind.JOB], "cancelled", event_data={"reason": "test"}
        )
    assert moved is not None and moved.event is not None
    events = engine.events(rows[Kind.JOB])
    assert len(events) == before + 1
    assert events[-1]["type"] == "cancelled"
    assert (events[-1]["from_status"], events[-1]["to_status"]) == ("pending", "cancelled")
    assert events[-1]["data"] == {"reason": "test"}


def test_fence_rejects_other_token(engine: Engine, rows: dict[Kind, uuid.UUID]) -> None:
    conn = engine.conn
    conn.execute(
        "UPDATE step_attempts SET status = 'running', lease_token = %s WHERE id = %s",
        (uuid.uuid4(), rows[Kind.ATTEMPT]),
    )
    assert (
        transition(conn, Kind.ATTEMPT, rows[Kind.ATTEMPT], "completed", fence=uuid.uuid4()) is None
    )


def test_runtime_values_never_make_new_statements(engine: Engine) -> None:
    """Costs, retry delays and lease times are bound parameters: a second job with other
    values builds no new transition statement (the server reuses its prepared plans)."""

    def run(name: str, usd: float, backoff: float) -> dict:
        step = {"key": "a", "action": "test.costly", "params": {"usd": usd, "fail_times": 1}}
        step["retry"] = {"max_attempts": 2, "backoff_seconds": backoff}
        engine.register({"name": name, "steps": [step]})
        return engine.drain(engine.create(name))

    run("first_values", 0.125, 0.01)
    built = statement_count()
    job = run("other_values", 0.375, 0.02)
    assert job["status"] == "completed"
    assert statement_count() == built


class _Rollback(Exception):
    pass


def test_transition_needs_a_row(conn: psycopg.Connection) -> None:
    assert transition(conn, Kind.JOB, uuid.uuid4(), "running") is None
