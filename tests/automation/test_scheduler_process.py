"""`jobmonitor scheduler` as real processes: several never fire a due time twice, the overlap
policies, the workflow's own concurrency policy, and catch-up after downtime."""

from __future__ import annotations

import itertools
from datetime import timedelta

from tests.automation.helpers import add_schedule, fires, schedulers, spawn, wait_until
from tests.integration.conftest import Engine, chain


def test_two_schedulers_never_double_fire(engine: Engine) -> None:
    engine.register(chain("tick", "a", action="test.noop"))
    ids = [
        add_schedule(
            engine,
            "tick",
            f"s{i}",
            interval_seconds=1,
            overlap="allow",
            catchup="all",
            catchup_max=100,
        )
        for i in range(8)
    ]
    with schedulers(2):
        wait_until(lambda: all(len(fires(engine, s)) >= 4 for s in ids), 90, "4 fires each")
    jobs = engine.conn.execute(
        "SELECT idempotency_key FROM jobs WHERE workspace_id = %s", (engine.workspace_id,)
    ).fetchall()
    all_fires = [f for s in ids for f in fires(engine, s)]
    assert len(jobs) == len(all_fires) == len({j["idempotency_key"] for j in jobs})
    assert {f["status"] for f in all_fires} == {"started"}
    for schedule_id in ids:
        due = [f["due_at"] for f in fires(engine, schedule_id)]
        gaps = {b - a for a, b in itertools.pairwise(due)}
        assert gaps == {timedelta(seconds=1)}, gaps  # every due time, each once
        for fire in fires(engine, schedule_id):
            key = engine.job(fire["job_id"])["idempotency_key"]
            assert key == f"schedule:{schedule_id}:{fire['due_at'].isoformat()}"


def test_overlap_policies_and_concurrency(engine: Engine) -> None:
    for name in ("w_skip", "w_queue", "w_cancel", "w_allow"):
        engine.register(chain(name, "a", action="test.noop"))
    engine.register(
        {**chain("w_single", "a", action="test.noop"), "concurrency": {"max_concurrent_jobs": 1}}
    )
    common = {"interval_seconds": 1, "catchup": "all", "catchup_max": 100}
    ids = {
        policy: add_schedule(engine, f"w_{key}", key, overlap=policy, **common)
        for policy, key in [
            ("skip", "skip"),
            ("queue_one", "queue"),
            ("cancel_running", "cancel"),
            ("allow", "allow"),
        ]
    }
    single = add_schedule(engine, "w_single", "single", overlap="allow", **common)
    with schedulers(1):
        wait_until(
            lambda: all(len(fires(engine, s)) >= 3 for s in [*ids.values(), single]), 90, "fires"
        )
        skip = [f["status"] for f in fires(engine, ids["skip"])]
        assert skip[0] == "started" and set(skip[1:]) == {"skipped"}
        queue = [f["status"] for f in fires(engine, ids["queue_one"])]
        assert queue[:2] == ["started", "queued"] and set(queue[2:]) == {"skipped"}
        cancel = fires(engine, ids["cancel_running"])
        assert {f["status"] for f in cancel} == {"started"}
        for earlier in cancel[:-1]:
            job = engine.job(earlier["job_id"])
            assert job["status"] == "cancelled" and "overlap=cancel_running" in job["error_message"]
        allow = fires(engine, ids["allow"])
        assert {f["status"] for f in allow} == {"started"}
        assert {engine.job(f["job_id"])["status"] for f in allow} <= {"pending", "running"}
        refused = fires(engine, single)
        assert refused[0]["status"] == "started" and {f["status"] for f in refused[1:]} == {
            "refused"
        }
        assert "max_concurrent_jobs=1" in refused[1]["reason"]
        first_job = fires(engine, ids["queue_one"])[0]["job_id"]
        engine.drain(first_job)  # the active job ends: the queued due time starts
        released = wait_until(
            lambda: [f for f in fires(engine, ids["queue_one"])[:2] if f["status"] == "started"][
                1:
            ],
            60,
            "the queued due time to start",
        )
        assert released[0]["job_id"] not in (None, first_job)


def test_catchup_after_downtime(engine: Engine) -> None:
    engine.register(chain("nightly", "a", action="test.noop"))
    cases = {"none": ("none", 1), "last": ("last", 1), "all3": ("all", 3), "all10": ("all", 10)}
    ids = {
        key: add_schedule(
            engine, "nightly", key, interval_seconds=3600, catchup=mode, catchup_max=n
        )
        for key, (mode, n) in cases.items()
    }
    jittered = add_schedule(engine, "nightly", "jittered", interval_seconds=3600, jitter_seconds=30)
    row = engine.conn.execute(
        "SELECT next_fire_at - next_due_at AS j FROM schedules WHERE id = %s", (jittered,)
    ).fetchone()
    assert row is not None and timedelta(0) <= row["j"] < timedelta(seconds=30)
    # no scheduler ran for 5.5 hours: five due times passed (anchor + 1 h ... anchor + 5 h)
    engine.conn.execute(
        """
        UPDATE schedules SET anchor_at = now() - interval '5 hours 30 minutes',
               next_due_at = now() - interval '4 hours 30 minutes',
               next_fire_at = now() - interval '4 hours 30 minutes'
        WHERE id = ANY(%s)
        """,
        (list(ids.values()),),
    )
    anchor = engine.conn.execute(
        "SELECT anchor_at FROM schedules WHERE id = %s", (ids["none"],)
    ).fetchone()
    assert anchor is not None
    process = spawn("scheduler", "--once")
    assert process.wait(timeout=60) == 0
    due = {
        key: [f["due_at"] - anchor["anchor_at"] for f in fires(engine, s)] for key, s in ids.items()
    }
    hours = {key: [d / timedelta(hours=1) for d in value] for key, value in due.items()}
    assert hours == {
        "none": [],
        "last": [5.0],
        "all3": [3.0, 4.0, 5.0],
        "all10": [1.0, 2.0, 3.0, 4.0, 5.0],
    }
    nexts = engine.conn.execute(
        "SELECT DISTINCT next_due_at - anchor_at AS d FROM schedules WHERE id = ANY(%s)",
        (list(ids.values()),),
    ).fetchall()
    assert [r["d"] for r in nexts] == [timedelta(hours=6)]
