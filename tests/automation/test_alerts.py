"""Every alert rule with a real scheduler process and a receiver on loopback: job failed (and
the quiet period: a storm sends one message, the next says how many were suppressed), job
succeeded after failing, step retried more than N times, run longer than X, longer than k x
its p95, stuck; and the rules API's validation."""

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
        world.a.admin.post(
            "/alert-rules", json={**base, "kind": "failure_group_opened"}
        ).status_code
        == 422
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
