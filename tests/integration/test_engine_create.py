"""Creating jobs: idempotency keys, the concurrency policy, force."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from backend.db import connect
from backend.errors import (
    ConcurrencyLimited,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    RateLimited,
)
from backend.jobs import service
from backend.jobs.outbox import Outbox
from backend.runs.modes import RunMode
from tests.integration.conftest import Engine, chain


def test_same_key_same_payload_is_the_same_job(engine: Engine) -> None:
    engine.register(chain("idem", "a"))
    first = engine.act(service.create_job, "idem", {"x": 1}, idempotency_key="k1")
    again = engine.act(service.create_job, "idem", {"x": 1}, idempotency_key="k1")
    assert (first.replayed, again.replayed) == (False, True)
    assert first.job_id == again.job_id
    with pytest.raises(IdempotencyConflict) as info:
        engine.act(service.create_job, "idem", {"x": 2}, idempotency_key="k1")
    assert info.value.details == {"job_id": str(first.job_id)}


def test_twenty_concurrent_creates_make_one_job(engine: Engine) -> None:
    engine.register(chain("burst", "a"))
    barrier = threading.Barrier(20)
    results: list[Any] = []

    def create() -> None:
        with connect(autocommit=True) as conn:
            barrier.wait()
            outbox = Outbox()
            with conn.transaction():
                created = service.create_job(
                    conn, engine.workspace_id, "burst", {"n": 1}, outbox, idempotency_key="same"
                )
            outbox.flush(conn)
            results.append(created)

    threads = [threading.Thread(target=create) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 20
    assert len({r.job_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert engine.conn.execute("SELECT count(*) AS n FROM jobs").fetchone()["n"] == 1
    assert engine.conn.execute("SELECT count(*) AS n FROM step_attempts").fetchone()["n"] == 1
    assert (
        engine.conn.execute("SELECT execution_count FROM workflows").fetchone()["execution_count"]
        == 1
    )


def test_keys_are_scoped_to_the_workspace(engine: Engine) -> None:
    engine.register(chain("scoped", "a"))
    first = engine.create("scoped", {}, idempotency_key="shared")
    other = Engine(engine.conn)
    other.register(chain("scoped", "a"))
    second = other.create("scoped", {}, idempotency_key="shared")
    assert first != second


def test_max_concurrent_jobs_and_force(engine: Engine) -> None:
    engine.register(
        {
            **chain("single", "a", action="test.sleep", params={"seconds": 30}),
            "concurrency": {"max_concurrent_jobs": 1},
        }
    )
    first = engine.create("single")
    with pytest.raises(ConcurrencyLimited) as info:
        engine.create("single")
    assert info.value.details == {"active_job_ids": [str(first)]}
    forced = engine.create("single", force=True)
    assert engine.job(first)["status"] == "cancelled"
    assert engine.job(forced)["status"] == "pending"
    reason = f"replaced by job {forced} (forced start)"
    events = [e for e in engine.events(first) if e["type"] == "cancelled"]
    assert events[0]["data"] == {"reason": reason}
    audit = engine.conn.execute(
        "SELECT actor, action, target_id, status_before, status_after, data FROM audit_log"
    ).fetchall()
    assert audit == [
        {
            "actor": "system",
            "action": "job.cancel",
            "target_id": str(first),
            "status_before": "pending",
            "status_after": "cancelled",
            "data": {"reason": reason, "replaced_by": str(forced)},
        }
    ]


def test_the_policy_applies_to_global_batch_runs_only(engine: Engine) -> None:
    engine.register(
        {
            **chain("single_batch", "a"),
            "concurrency": {"max_concurrent_jobs": 1, "min_seconds_between_starts": 60},
        }
    )
    batch = engine.create("single_batch")
    items = [
        engine.create("single_batch", mode=RunMode.SINGLE_ITEM, item_id=str(n)) for n in (1, 2)
    ]
    with pytest.raises(ConcurrencyLimited) as refused:
        engine.create("single_batch")
    assert str(batch) in refused.value.message and str(items[0]) not in refused.value.message
    rows = [engine.job(j) for j in (batch, *items)]
    assert [(r["run_mode"], r["item_id"]) for r in rows] == [
        ("global_batch", None),
        ("single_item", "1"),
        ("single_item", "2"),
    ]
    with pytest.raises(InvalidInput):
        engine.create("single_batch", mode=RunMode.SINGLE_ITEM)  # no item
    with pytest.raises(InvalidInput):
        engine.create("single_batch", item_id="7")  # an item outside single_item
    with pytest.raises(InvalidInput):
        engine.create("single_batch", mode=RunMode.SINGLE_RUN)  # that is a resume


def test_min_seconds_between_starts(engine: Engine) -> None:
    engine.register({**chain("paced", "a"), "concurrency": {"min_seconds_between_starts": 60}})
    first = engine.create("paced")
    with pytest.raises(RateLimited) as info:
        engine.create("paced")
    assert 59 < info.value.retry_after <= 60
    assert str(first) in info.value.message and "retry in" in info.value.message
    assert info.value.details["last_job_id"] == str(first)
    engine.create("paced", force=True)


def test_unknown_workflow_suggests_close_names(engine: Engine) -> None:
    engine.register(chain("basic_sequence", "a"))
    with pytest.raises(NotFound) as info:
        engine.create("basic_sequense")
    assert info.value.details == {"suggestions": ["basic_sequence"]}
    with pytest.raises(NotFound):
        engine.create(str(uuid.uuid4()))


def test_new_version_keeps_old_jobs_on_theirs(engine: Engine) -> None:
    engine.register(chain("versioned", "a"))
    old = engine.create("versioned")
    engine.register(chain("versioned", "a", "b"))
    new = engine.create("versioned")
    assert engine.job(old)["step_count"] == 1 and engine.job(new)["step_count"] == 2
    assert engine.drain(old)["status"] == "completed"
    rerun = engine.act(service.rerun_job, old)
    assert engine.job(rerun.job_id)["step_count"] == 1
