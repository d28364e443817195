"""Cost budgets: a blocking workflow budget refuses new jobs with 429 (budget, spend, reset
time, Retry-After) once spent, `force` passes; the warn threshold and the limit alert through a
real scheduler to a receiver; spend on /metrics; validation and scoping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.settings import reset_settings
from tests.api.conftest import World, error_of
from tests.automation.helpers import schedulers, wait_until
from tests.automation.receiver import Receiver, receiver

COSTLY = {
    "name": "costly",
    "steps": [{"key": "spend", "action": "test.costly", "params": {"usd": 0.6}}],
}


@pytest.fixture
def hooks(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv("JOBMONITOR_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    reset_settings()
    assert world.a.admin.post("/workflows", json=COSTLY).status_code == 201
    with receiver() as state:
        yield state


def test_blocking_budget_and_threshold_alerts(world: World, hooks: Receiver) -> None:
    admin = world.a.admin
    budget = admin.post(
        "/budgets",
        json={
            "workflow": "costly",
            "period": "day",
            "limit_usd": 1.0,
            "warn_percent": 50,
            "block": True,
        },
    )
    assert budget.status_code == 201, budget.text
    month = admin.post("/budgets", json={"period": "month", "limit_usd": 100}).json()
    ch = admin.post("/channels", json={"name": "money", "url": f"{hooks.base}/money"}).json()
    rule = {"name": "spend", "kind": "budget_threshold", "channels": [ch["id"]], "quiet_seconds": 0}
    assert admin.post("/alert-rules", json=rule).status_code == 201
    with schedulers(1, interval="0.2"):
        world.run(world.create("costly"))
        warn = wait_until(lambda: hooks.at("/money"), 60, "the warn alert")[0]
        assert (
            warn.json["data"]["level"] == "warn"
            and "$0.60 of its day budget $1.00" in warn.json["message"]
        )
        world.run(world.create("costly"))
        wait_until(lambda: len(hooks.at("/money")) >= 2, 60, "the limit alert")
        refused = world.a.operator.post("/jobs", json={"workflow": "costly"})
        assert refused.status_code == 429
        err = error_of(refused)
        assert (
            err["code"] == "budget_exhausted" and err["details"]["budget_id"] == budget.json()["id"]
        )
        assert (
            err["details"]["spent_usd"] == pytest.approx(1.2) and err["details"]["limit_usd"] == 1.0
        )
        resets = datetime.fromisoformat(err["details"]["resets_at"])
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
        assert resets.date() == tomorrow and resets.hour == 0
        assert 0 < int(refused.headers["retry-after"]) <= 86400
        assert (
            world.a.operator.post("/jobs", json={"workflow": "echo3"}).status_code == 201
        )  # other workflows
        forced = world.a.operator.post("/jobs", json={"workflow": "costly", "force": True})
        assert forced.status_code == 201
    levels = sorted(r.json["data"]["level"] for r in hooks.at("/money"))
    assert levels == ["limit", "warn"]  # once each for this period, although spend went on
    shown = world.a.viewer.get("/budgets", params={"workflow": "costly"}).json()["items"]
    assert {b["id"] for b in shown} == {budget.json()["id"], month["id"]}
    mine = next(b for b in shown if b["id"] == budget.json()["id"])
    assert mine["spent_usd"] == pytest.approx(1.2) and mine["percent"] == pytest.approx(120)
    daily = world.a.viewer.get(f"/budgets/{budget.json()['id']}/daily", params={"days": 3}).json()
    assert [d["spent_usd"] for d in daily["items"]] == [0, 0, pytest.approx(1.2)]
    assert daily["items"][-1]["day"] == datetime.now(UTC).date().isoformat()
    metrics = world.a.viewer.get("/metrics").text
    samples = {
        (s.name, s.labels["workflow"], s.labels["period"]): s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
        if s.name.startswith("jobmonitor_budget_") and s.labels.get("workspace") == "alpha"
    }
    assert samples[("jobmonitor_budget_spend_usd", "costly", "day")] == pytest.approx(1.2)
    assert samples[("jobmonitor_budget_limit_usd", "", "month")] == 100


def test_budget_validation(world: World) -> None:
    admin = world.a.admin
    assert admin.post("/budgets", json={"period": "week", "limit_usd": 1}).status_code == 422
    assert admin.post("/budgets", json={"period": "day", "limit_usd": 0}).status_code == 422
    assert (
        admin.post(
            "/budgets", json={"period": "day", "limit_usd": 1, "workflow": "nope"}
        ).status_code
        == 404
    )
    assert (
        world.a.operator.post("/budgets", json={"period": "day", "limit_usd": 1}).status_code == 403
    )
    created = admin.post("/budgets", json={"period": "day", "limit_usd": 1})
    assert created.status_code == 201
    again = admin.post("/budgets", json={"period": "day", "limit_usd": 2})
    assert again.status_code == 409
    assert world.b.admin.get(f"/budgets/{created.json()['id']}").status_code == 404
    assert world.b.admin.get("/budgets").json()["items"] == []
    assert admin.delete(f"/budgets/{created.json()['id']}").status_code == 204
