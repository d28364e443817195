"""Every alert rule with a real scheduler process and a receiver on loopback: job failed (and
the quiet period: a storm sends one message, the next says how many were suppressed), job
succeeded after failing, step retried more than N times, run longer than X, longer than k x
its p95, stuck, failure group opened (once per opening of the group); and the rules API's
validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.settings import reset_settings
from tests.api.conftest import World
from tests.automation.helpers import schedulers, wait_until
from tests.automation.receiver import Receiver, receiver

SLEEPY = {"name": "sleepy", "steps": [{"key": "nap", "action": "test.sleep"}]}
QUICK = {"name": "quick", "steps": [{"key": "nap", "action": "test.sleep"}]}
SOMETIMES = {"name": "sometimes", "steps": [{"key": "try", "action": "test.flaky"}]}
RETRIER = {
    "name": "retrier",
    "steps": [
        {
            "key": "try",
            "action": "test.flaky",
            "params": {"fail_times": 3},
            "retry": {"max_attempts": 4, "backoff_seconds": 0},
        }
    ],
}


@pytest.fixture
def hooks(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("JOBMONITOR_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    reset_settings()
    for definition in (SLEEPY, QUICK, SOMETIMES, RETRIER):
        assert world.a.admin.post("/workflows", json=definition).status_code == 201
    with receiver() as state:
        yield state


def _rule(world: World, hooks: Receiver, name: str, kind: str, workflow: str, **extra: Any) -> None:
    url = f"{hooks.base}/{name}"
    ch = world.a.admin.post("/channels", json={"name": name, "url": url}).json()
    body = {"name": name, "kind": kind, "workflows": [workflow], "channels": [ch["id"]], **extra}
    response = world.a.admin.post("/alert-rules", json=body)
    assert response.status_code == 201, response.text


def test_every_rule(world: World, hooks: Receiver) -> None:
    _rule(world, hooks, "failed", "job_failed", "broken", quiet_seconds=300)
    _rule(world, hooks, "recovered", "job_recovered", "sometimes")
    _rule(world, hooks, "retried", "step_retried", "retrier", params={"retries": 1})
    _rule(world, hooks, "long", "run_longer_than", "sleepy", params={"seconds": 1})
    _rule(world, hooks, "stuck", "stuck", "sleepy", params={"seconds": 1.5})
    _rule(
        world, hooks, "p95", "run_longer_than_p95", "quick", params={"factor": 3, "min_samples": 5}
    )
    with schedulers(1, interval="0.2"):
        storm = [world.create("broken") for _ in range(3)]
        for job in storm:
            world.run(job)
        world.run(world.create("sometimes", {"fail_times": 5}))
        recovered = world.create("sometimes", {"fail_times": 0})
        world.run(recovered)
        retried = world.create("retrier")
        world.run(retried)
        for _ in range(5):
            world.run(world.create("quick", {"sleep": 0.01}))
        slow = world.create("quick", {"sleep": 4})
        long = world.create("sleepy", {"sleep": 4})
        world.run(slow)
        world.run(long)
        for path in ("/failed", "/recovered", "/retried", "/long", "/stuck", "/p95"):
            wait_until(lambda p=path: hooks.at(p), 60, f"a message on {path}")
    (failed,) = hooks.at("/failed")  # three failures in the quiet period: one message
    assert failed.json["data"]["job_id"] == storm[0]["id"] and failed.json["suppressed"] == 0
    rule = next(
        r for r in world.a.viewer.get("/alert-rules").json()["items"] if r["name"] == "failed"
    )
    assert rule["suppressed"] == 2
    assert hooks.at("/recovered")[0].json["data"]["job_id"] == recovered["id"]
    (retry,) = hooks.at("/retried")  # once per step, when it had failed twice
    assert retry.json["data"] == {"job_id": retried["id"], "step": "try", "failures": 2}
    assert hooks.at("/long")[0].json["data"]["job_id"] == long["id"]
    assert hooks.at("/stuck")[0].json["data"]["job_id"] == long["id"]
    (p95,) = hooks.at("/p95")
    assert p95.json["data"]["job_id"] == slow["id"] and p95.json["data"]["p95"] < 1
    assert all(r.signed_by(_secret(r.path)) for r in hooks.received)


def test_failure_group_opened(world: World, hooks: Receiver) -> None:
    """A group alerts when a failure creates it and when a failure reopens it after a
    resolve, not for the failures in between (no quiet period hides them here)."""
    _rule(world, hooks, "opened", "failure_group_opened", "broken", quiet_seconds=0)
    with schedulers(1, interval="0.2"):
        first = world.create("broken")
        world.run(first)
        (created,) = wait_until(lambda: hooks.at("/opened"), 60, "the group's first message")
        fingerprint = created.json["data"]["fingerprint"]
        assert created.json["data"] == {
            "fingerprint": fingerprint,
            "job_id": first["id"],
            "workflow": "broken",
            "step": "boom",
            "error_type": created.json["data"]["error_type"],
            "message": created.json["data"]["message"],
            "count": 1,
            "reopened": False,
        }
        group = world.a.viewer.get(f"/failures/{fingerprint}").json()
        assert (created.json["data"]["error_type"], created.json["data"]["message"]) == (
            group["error_type"],
            group["message"],
        )
        assert created.json["event"] == "alert.failure_group_opened"
        # a rule made while the group is open waits for the group's next opening
        _rule(world, hooks, "late", "failure_group_opened", "broken", quiet_seconds=0)
        second = world.create("broken")
        world.run(second)
        _wait_handled(second["id"])
        assert _notices("opened") == 1  # the open group's second failure: no message
        assert _notices("late") == 0
        resolve = world.a.operator.patch(f"/failures/{fingerprint}", json={"state": "resolved"})
        assert resolve.status_code == 200, resolve.text
        third = world.create("broken")
        world.run(third)
        wait_until(lambda: len(hooks.at("/opened")) == 2, 60, "the reopened group's message")
        wait_until(lambda: hooks.at("/late"), 60, "the late rule's message")
        _wait_handled(third["id"])
    reopened = hooks.at("/opened")[1].json
    assert reopened["data"]["job_id"] == third["id"] and reopened["data"]["reopened"] is True
    assert reopened["data"]["fingerprint"] == fingerprint and reopened["data"]["count"] == 3
    assert len(hooks.at("/opened")) == 2 and _notices("opened") == 2
    assert [r.json["data"]["job_id"] for r in hooks.at("/late")] == [third["id"]]
    assert all(r.signed_by(_secret(r.path)) for r in hooks.received)


def _wait_handled(job_id: str) -> None:
    """Until the scheduler's feed has passed the job's failure event."""
    from backend.db import connect

    with connect(autocommit=True) as conn:
        wait_until(
            lambda: conn.execute(
                "SELECT 1 FROM job_events e, automation_cursors c WHERE e.job_id = %s"
                " AND e.type = 'workflow_failed' AND e.id <= c.last_id"
                " AND NOT c.gaps @> jsonb_build_array(jsonb_build_array(e.id))",
                (job_id,),
            ).fetchone(),
            60,
            f"the scheduler to handle job {job_id}'s failure",
        )


def _notices(rule: str) -> int:
    """The subjects a rule has matched (sent or suppressed)."""
    from backend.db import connect

    with connect() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM alert_notices n JOIN alert_rules r ON r.id = n.rule_id"
            " WHERE r.name = %s",
            (rule,),
        ).fetchone()
    assert row is not None
    return int(row["n"])


def _secret(path: str) -> str:
    """Channel secrets are shown once; the tests read them where they are kept."""
    from backend.db import connect

    with connect() as conn:
        row = conn.execute(
            "SELECT secret FROM notification_channels WHERE name = %s", (path.strip("/"),)
        ).fetchone()
    assert row is not None
    return str(row["secret"])


def test_rule_validation(world: World, hooks: Receiver) -> None:
    ch = world.a.admin.post("/channels", json={"name": "c", "url": f"{hooks.base}/c"}).json()
    base = {"name": "r", "kind": "run_longer_than", "channels": [ch["id"]]}
    assert world.a.admin.post("/alert-rules", json=base).status_code == 422  # params.seconds
    other = world.b.admin.post("/channels", json={"name": "c", "url": f"{hooks.base}/c"}).json()
    wrong = world.a.admin.post(
        "/alert-rules", json={**base, "params": {"seconds": 5}, "channels": [other["id"]]}
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["loc"] == [
        "channels",
        0,
    ]
    assert (
        world.a.admin.post("/alert-rules", json={**base, "kind": "no_such_kind"}).status_code == 422
    )
    assert (
        world.a.admin.post(
            "/alert-rules", json={**base, "params": {"seconds": 5}, "workflows": ["nope"]}
        ).status_code
        == 404
    )
    assert (
        world.a.operator.post("/alert-rules", json={**base, "params": {"seconds": 5}}).status_code
        == 403
    )
    created = world.a.admin.post("/alert-rules", json={**base, "params": {"seconds": 5}})
    assert created.status_code == 201
    assert (
        world.a.admin.post("/alert-rules", json={**base, "params": {"seconds": 5}}).status_code
        == 409
    )
    assert world.b.admin.get(f"/alert-rules/{created.json()['id']}").status_code == 404
    assert world.a.admin.delete(f"/alert-rules/{created.json()['id']}").status_code == 204
