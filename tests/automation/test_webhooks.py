"""Outgoing webhooks: a signed test send, Slack's shape, retries with backoff and the attempt
log (a real scheduler process sends), and the SSRF guard: private, link-local and loopback
addresses and redirects to them are denied unless the host is allowed (the test allows only
its own receiver's 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.settings import reset_settings
from tests.api.conftest import World
from tests.automation.helpers import schedulers, wait_until
from tests.automation.receiver import Receiver, receiver


@pytest.fixture
def hooks(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("JOBMONITOR_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    monkeypatch.setenv("JOBMONITOR_WEBHOOK_BACKOFF_SECONDS", "0.2")
    monkeypatch.setenv("JOBMONITOR_WEBHOOK_TIMEOUT", "3")
    reset_settings()
    with receiver() as state:
        yield state


def channel(world: World, name: str, url: str, kind: str = "webhook") -> dict[str, Any]:
    response = world.a.admin.post("/channels", json={"name": name, "url": url, "kind": kind})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_signed_test_send_and_slack(world: World, hooks: Receiver) -> None:
    created = channel(world, "ops", f"{hooks.base}/hook/secret-path")
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["url"] == f"{hooks.base}/…"
    shown = world.a.viewer.get(f"/channels/{created['id']}").json()
    assert (
        shown["secret"] is None and shown["has_secret"] is True and "secret-path" not in str(shown)
    )
    answer = world.a.admin.post(f"/channels/{created['id']}/test")
    sent = answer.json()
    assert sent["status"] == "delivered" and [a["status_code"] for a in sent["attempt_log"]] == [
        200
    ]
    (got,) = hooks.at("/hook/secret-path")
    assert got.signed_by(secret) and not got.signed_by(secret + "x")
    assert got.json["event"] == "test" and got.headers["x-jobmonitor-delivery"] == sent["id"]
    slack = channel(world, "chat", f"{hooks.base}/slack", kind="slack")
    assert slack["secret"] is None
    assert world.a.admin.post(f"/channels/{slack['id']}/test").json()["status"] == "delivered"
    assert hooks.at("/slack")[0].json == {"text": "Test message from Jobmonitor to channel chat"}
    assert (
        world.a.operator.post("/channels", json={"name": "x", "url": hooks.base + "/x"}).status_code
        == 403
    )
    assert world.b.admin.post(f"/channels/{created['id']}/test").status_code == 404


def test_ssrf_guard(world: World, hooks: Receiver) -> None:
    for name, url in [
        ("private", "http://10.1.2.3/hook"),
        ("metadata", "http://169.254.169.254/latest/meta-data"),
        ("loopback-by-name", f"http://localhost:{hooks.base.rsplit(':', 1)[1]}/hook"),
        ("ipv6-loopback", "http://[::1]:9/hook"),
    ]:
        sent = world.a.admin.post(f"/channels/{channel(world, name, url)['id']}/test").json()
        assert sent["status"] == "failed" and sent["attempts"] == 1, (name, sent)
        assert sent["attempt_log"][0]["error"].startswith("denied:"), (name, sent)
    hooks.redirect_to = "http://169.254.169.254/latest/meta-data"
    sent = world.a.admin.post(
        f"/channels/{channel(world, 'redirects', hooks.base + '/redirect')['id']}/test"
    ).json()
    assert sent["status"] == "failed" and "169.254.169.254" in sent["last_error"]
    assert [r.path for r in hooks.received] == ["/redirect"]  # nothing else was reached
    bad = world.a.admin.post("/channels", json={"name": "ftp", "url": "ftp://example.com/x"})
    assert bad.status_code == 422


def test_retries_with_backoff_by_the_scheduler(world: World, hooks: Receiver) -> None:
    hooks.script["/flaky"] = [500, 502, 200]
    hooks.script["/down"] = [503]
    flaky = channel(world, "flaky", f"{hooks.base}/flaky")
    down = channel(world, "down", f"{hooks.base}/down")
    rule = world.a.admin.post(
        "/alert-rules",
        json={
            "name": "failures",
            "kind": "job_failed",
            "channels": [flaky["id"], down["id"]],
            "workflows": ["broken"],
        },
    )
    assert rule.status_code == 201, rule.text
    with schedulers(1, interval="0.1"):
        job = world.create("broken")
        world.run(job)
        delivered = wait_until(
            lambda: [
                d
                for d in world.a.viewer.get(f"/channels/{flaky['id']}/deliveries").json()["items"]
                if d["status"] == "delivered"
            ],
            60,
            "the delivery after retries",
        )[0]
        failed = wait_until(
            lambda: [
                d
                for d in world.a.viewer.get(f"/channels/{down['id']}/deliveries").json()["items"]
                if d["status"] == "failed"
            ],
            90,
            "the delivery to give up",
        )[0]
    assert [a["status_code"] for a in delivered["attempt_log"]] == [500, 502, 200]
    times = [a["created_at"] for a in delivered["attempt_log"]]
    assert times == sorted(times)
    bodies = {r.body for r in hooks.at("/flaky")}
    assert len(hooks.at("/flaky")) == 3 and len(bodies) == 1  # the same body each time
    assert all(r.signed_by(flaky["secret"]) for r in hooks.at("/flaky"))
    assert (
        delivered["payload"]["data"]["job_id"] == job["id"]
        and "failed" in delivered["payload"]["text"]
    )
    assert (
        failed["attempts"] == 5 and [a["status_code"] for a in failed["attempt_log"]] == [503] * 5
    )
