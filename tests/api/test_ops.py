"""Operations: health, readiness, Prometheus metrics, the audit log."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from backend.settings import get_settings
from tests.api.conftest import World


def test_health_and_readiness(world: World) -> None:
    assert world.anonymous.get("/healthz").json() == {"status": "ok"}
    assert world.anonymous.get("http://testserver/api/healthz").status_code == 200
    ready = world.anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "redis": {"ok": True}},
    }


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, name
    return float(match.group(1))


def _samples(text: str, name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include `labels` (Prometheus' own parser)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def _steps_seen(text: str, workspace: str) -> float:
    """Completed echo3 steps in the histogram (recorded by every process of this run)."""
    return _samples(
        text,
        "jobmonitor_step_duration_seconds_count",
        workspace=workspace,
        workflow="echo3",
        status="completed",
    )


def test_prometheus_metrics(world: World) -> None:
    assert world.anonymous.get("/metrics").status_code == 401
    before = _steps_seen(world.a.viewer.get("/metrics").text, "alpha")
    done = world.create("echo3")
    world.run(done)
    world.create("echo3")
    response = world.a.viewer.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert _samples(text, "jobmonitor_jobs", workspace="alpha", status="completed") == 1
    assert _samples(text, "jobmonitor_jobs", workspace="alpha", status="pending") == 1
    assert _steps_seen(text, "alpha") == before + 3
    assert _metric(text, 'jobmonitor_queue_depth{queue="' + get_settings().queue + '"}') == 1
    assert "# TYPE jobmonitor_step_duration_seconds histogram" in text
    assert _metric(text, "jobmonitor_workers") >= 0 and _metric(text, "jobmonitor_redis_up") == 1
    # counted once: a second scrape adds nothing new
    again = world.a.viewer.get("/metrics").text
    assert _steps_seen(again, "alpha") == before + 3
    other = world.b.viewer.get("/metrics").text
    assert _samples(other, "jobmonitor_jobs", workspace="beta", status="completed") == 0
    assert 'workspace="alpha"' not in other


def test_audit_records_operator_actions(world: World) -> None:
    op = world.a.operator
    job = world.create("echo3")
    op.post(f"/jobs/{job['id']}/cancel")
    op.post(f"/jobs/{job['id']}/resume")
    op.post(f"/jobs/{job['id']}/cancel")
    op.delete(f"/jobs/{job['id']}")
    op.post("/jobs", json={"workflow": "single"})
    op.post("/jobs", json={"workflow": "single"})  # refused: no entry
    world.a.admin.post("/tokens", json={"name": "t", "role": "viewer"})
    assert world.a.operator.get("/audit").status_code == 403
    items = world.a.admin.get("/audit").json()["items"]
    actions = [(i["action"], i["status_before"], i["status_after"]) for i in reversed(items)]
    assert actions == [
        ("job.create", None, "pending"),
        ("job.cancel", "pending", "cancelled"),
        ("job.resume", "cancelled", "pending"),
        ("job.cancel", "pending", "cancelled"),
        ("job.delete", "cancelled", None),
        ("job.create", None, "pending"),
        ("token.create", None, "active"),
    ]
    first = items[-1]
    assert first["actor"].startswith("token:operator-token (jm_") and first["target_type"] == "job"
    assert first["target_id"] == job["id"] and first["created_at"]
    page = world.a.admin.get("/audit", params={"limit": 3}).json()
    rest = world.a.admin.get("/audit", params={"cursor": page["next_cursor"]}).json()
    assert [i["id"] for i in page["items"] + rest["items"]] == [i["id"] for i in items]
    only = world.a.admin.get("/audit", params={"action": "job.cancel"}).json()["items"]
    assert len(only) == 2 and {i["target_id"] for i in only} == {job["id"]}
    assert world.b.admin.get("/audit").json()["items"] == []
