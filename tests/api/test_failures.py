"""The failure inbox: grouping by fingerprint, ack / assign / note / resolve, a group that
reopens after resolve, and the bulk re-run of a group's failed runs."""

from __future__ import annotations

import uuid

from backend.db import connect
from tests.api.conftest import World, error_of
from tests.api.investigate import finished


def test_groups_reopen_after_resolve_and_rerun_in_bulk(world: World) -> None:
    first = finished(world, "broken", {})
    second = finished(world, "broken", {})
    finished(world, "echo3", {})
    groups = world.a.viewer.get("/failures").json()
    assert groups["open"] == 1 and len(groups["items"]) == 1
    group = groups["items"][0]
    fp = group["fingerprint"]
    assert group["workflow_name"] == "broken" and group["step_key"] == "boom"
    assert group["error_type"] == "RuntimeError"
    assert group["message"] == "planned failure <n>/<n>"
    assert (group["count"], group["status"]) == (2, "open")
    assert group["trend"][-1] == 2 and len(group["trend"]) == 7
    detail = world.a.viewer.get(f"/failures/{fp}").json()
    assert {o["job_id"] for o in detail["occurrences"]} == {first["id"], second["id"]}
    op = world.a.operator
    acked = op.patch(f"/failures/{fp}", json={"state": "acknowledged", "assignee": "alice"})
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    noted = op.patch(f"/failures/{fp}", json={"note": "upstream API flaps"}).json()
    assert (noted["assignee"], noted["note"], noted["status"]) == (
        "alice",
        "upstream API flaps",
        "acknowledged",
    )
    resolved = op.patch(f"/failures/{fp}", json={"state": "resolved"}).json()
    assert resolved["status"] == "resolved" and resolved["reopened"] is False
    assert world.a.viewer.get("/failures/counts").json() == {"open": 0}
    assert world.a.viewer.get("/failures", params={"status": "open"}).json()["items"] == []
    third = finished(world, "broken", {})  # happens again: the group reopens
    again = world.a.viewer.get(f"/failures/{fp}").json()
    assert again["status"] == "open" and again["reopened"] is True and again["count"] == 3
    assert world.a.viewer.get("/failures/counts").json() == {"open": 1}
    fixed = {"name": "broken", "steps": [{"key": "boom", "action": "test.noop"}]}
    assert world.a.admin.post("/workflows", json=fixed).status_code in (200, 201)
    bulk = op.post(f"/failures/{fp}/rerun", json={})
    assert bulk.status_code == 200, bulk.text
    body = bulk.json()
    assert body["succeeded"] == 3 and body["failed"] == 0
    assert {r["job_id"] for r in body["results"]} == {first["id"], second["id"], third["id"]}
    for r in body["results"]:
        assert world.engine.drain(uuid.UUID(r["new_job_id"]))["status"] == "completed"
    assert op.post(f"/failures/{fp}/rerun").json()["succeeded"] == 0  # each run once
    audit = world.a.admin.get("/audit", params={"action": "failure.update"}).json()["items"]
    assert len(audit) == 3


def test_failure_inbox_refusals_and_scope(world: World) -> None:
    finished(world, "broken", {})
    fp = world.a.viewer.get("/failures").json()["items"][0]["fingerprint"]
    assert world.b.admin.get("/failures").json() == {"items": [], "open": 0}
    assert world.b.admin.get(f"/failures/{fp}").status_code == 404
    assert world.b.operator.patch(f"/failures/{fp}", json={"state": "resolved"}).status_code == 404
    assert world.a.viewer.patch(f"/failures/{fp}", json={"state": "resolved"}).status_code == 403
    bad_state = world.a.operator.patch(f"/failures/{fp}", json={"state": "done"})
    assert bad_state.status_code == 422 and error_of(bad_state)["details"][0]["loc"][-1] == "state"
    extra = world.a.operator.patch(f"/failures/{fp}", json={"owner": "x"})
    assert extra.status_code == 422
    assert world.a.viewer.get("/failures/not-a-fingerprint").status_code == 422
    missing = world.a.viewer.get(f"/failures/{'0' * 32}")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert world.a.viewer.get("/failures", params={"status": "nope"}).status_code == 422
    assert world.anonymous.get("/failures").status_code == 401


def test_each_failure_counts_once_also_after_a_resume(world: World) -> None:
    job = finished(world, "broken", {})
    fp = world.a.viewer.get("/failures").json()["items"][0]["fingerprint"]
    assert world.a.operator.post(f"/jobs/{job['id']}/resume").status_code == 200
    assert world.a.viewer.get(f"/failures/{fp}").json()["occurrences"] == []  # step pending
    assert world.run(job)["status"] == "failed"  # its next attempt fails again
    group = world.a.viewer.get(f"/failures/{fp}").json()
    assert group["count"] == 2 and group["trend"][-1] == 2
    assert [o["job_id"] for o in group["occurrences"]] == [job["id"]]
    with connect(autocommit=True) as conn:
        stamped = conn.execute(
            "SELECT count(*) AS n FROM job_steps WHERE error_fingerprint = %s", (fp,)
        ).fetchone()
    assert stamped["n"] == 1
