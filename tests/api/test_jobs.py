"""Jobs: create and its idempotency rules, list/filter/page, counts, actions, bulk."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backend.db import connect
from tests import aio
from tests.api.conftest import World, error_of

PAYLOAD_FIELDS = {"input_payload", "output_payload", "state_before", "state_after", "delta"}


def test_create_returns_the_job(world: World) -> None:
    response = world.a.operator.post(
        "/jobs", json={"workflow_id": str(world.a.workflows["echo3"]), "input_payload": {"x": 1}}
    )
    assert response.status_code == 201
    job = response.json()
    assert (
        job["status"] == "pending"
        and job["workflow_name"] == "echo3"
        and job["input_payload"] == {"x": 1}
    )
    assert (
        job["workspace_id"] == str(world.a.id)
        and job["step_count"] == 3
        and job["execution_number"] == 1
    )
    by_name = world.a.operator.post(
        "/jobs", json={"workflow_id": "echo3"}
    )  # workflow_id also takes a name
    assert by_name.status_code == 201 and by_name.json()["execution_number"] == 2
    assert world.run(job)["status"] == "completed"
    assert world.a.viewer.get(f"/jobs/{job['id']}").json()["output_payload"]["c"]["step"] == "c"


def test_create_validation(world: World) -> None:
    op = world.a.operator
    missing = op.post("/jobs", json={"input_payload": {}})
    assert missing.status_code == 422 and "exactly one" in error_of(missing)["details"][0]["msg"]
    both = op.post("/jobs", json={"workflow": "echo3", "workflow_id": "echo3"})
    assert both.status_code == 422
    for field in ("status", "workspace_id", "total_cost", "output_payload"):
        response = op.post("/jobs", json={"workflow": "echo3", field: "x"})
        assert response.status_code == 422, field
        assert error_of(response)["details"][0]["loc"] == [field]
    unknown = op.post("/jobs", json={"workflow": "nope"})
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    not_object = op.post("/jobs", json={"workflow": "echo3", "input_payload": [1]})
    assert not_object.status_code == 422
    assert (
        op.post(
            "/jobs", content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 422
    )


def test_payload_is_checked_against_the_input_schema(world: World) -> None:
    response = world.a.operator.post(
        "/jobs", json={"workflow": "typed", "input_payload": {"count": 0, "extra": True}}
    )
    assert response.status_code == 422
    error = error_of(response)
    locs = [tuple(p["loc"]) for p in error["details"]]
    assert ("input_payload", "count") in locs
    assert ("input_payload", "name") in locs
    assert any("extra" in p["msg"] for p in error["details"])
    ok = world.a.operator.post(
        "/jobs", json={"workflow": "typed", "input_payload": {"count": 2, "name": "n"}}
    )
    assert ok.status_code == 201


def test_idempotent_replay_conflict_and_header(world: World) -> None:
    op = world.a.operator
    body = {"workflow": "echo3", "input_payload": {"x": 1}, "idempotency_key": "k-1"}
    first = op.post("/jobs", json=body)
    second = op.post("/jobs", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    other = op.post("/jobs", json={**body, "input_payload": {"x": 2}})
    assert other.status_code == 409
    error = error_of(other)
    assert (
        error["code"] == "idempotency_conflict" and error["details"]["job_id"] == first.json()["id"]
    )
    header = op.post(
        "/jobs",
        json={"workflow": "echo3", "input_payload": {"x": 1}},
        headers={"Idempotency-Key": "k-1"},
    )
    assert header.status_code == 200 and header.json()["id"] == first.json()["id"]
    mismatch = op.post("/jobs", json=body, headers={"Idempotency-Key": "k-2"})
    assert mismatch.status_code == 422
    # keys are per workspace
    assert world.b.operator.post("/jobs", json=body).status_code == 201
    assert world.a.viewer.get("/jobs").json()["total"] == 1


def _concurrent_posts(world: World, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=world.app)
        headers = {"Authorization": f"Bearer {world.a.tokens['operator']}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t/api/v1", headers=headers, timeout=30
        ) as c:
            return list(await asyncio.gather(*(c.post("/jobs", json=b) for b in bodies)))

    return aio.run(go())


def test_twenty_concurrent_creates_with_one_key_make_one_job(world: World) -> None:
    body = {"workflow": "echo3", "input_payload": {"n": 1}, "idempotency_key": "same"}
    responses = _concurrent_posts(world, [body] * 20)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 19 + [201], [r.text for r in responses if r.status_code >= 300]
    assert len({r.json()["id"] for r in responses}) == 1
    with connect() as conn:
        assert conn.execute("SELECT count(*) AS n FROM jobs").fetchone()["n"] == 1  # type: ignore[index]


def test_twenty_concurrent_creates_with_one_key_and_a_concurrency_limit(world: World) -> None:
    body = {"workflow": "single", "idempotency_key": "one"}
    responses = _concurrent_posts(world, [body] * 20)
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]


def test_concurrency_policy_refusals_and_force(world: World) -> None:
    op = world.a.operator
    first = world.create("single")
    refused = op.post("/jobs", json={"workflow": "single"})
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "concurrency_limited" and error["details"]["active_job_ids"] == [
        first["id"]
    ]
    forced = op.post("/jobs", json={"workflow": "single", "force": True})
    assert forced.status_code == 201
    assert op.get(f"/jobs/{first['id']}").json()["status"] == "cancelled"
    world.create("slow-start")
    limited = op.post("/jobs", json={"workflow": "slow-start"})
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
    assert 500 < int(limited.headers["retry-after"]) <= 600
    assert op.post("/jobs", json={"workflow": "slow-start", "force": True}).status_code == 201


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [j["id"] for j in response.json()["items"]]


def test_list_filters_sort_and_payloads(world: World) -> None:
    echo = [world.create("echo3", {"i": 0})]
    world.run(echo[0])  # runs every queued step: create the pending ones after it
    echo += [world.create("echo3", {"i": i}) for i in (1, 2)]
    typed = world.create("typed", {"count": 1, "name": "n"})
    viewer = world.a.viewer
    page = viewer.get("/jobs").json()
    assert [j["id"] for j in page["items"]] == [typed["id"], *[j["id"] for j in reversed(echo)]]
    assert page["total"] == 4 and page["total_exact"] and page["skip"] == 0 and page["limit"] == 50
    assert not PAYLOAD_FIELDS & set(page["items"][0])
    assert _ids(viewer.get("/jobs", params={"status": "completed"})) == [echo[0]["id"]]
    assert viewer.get("/jobs", params={"status": "completed"}).json()["total"] == 1
    both = viewer.get("/jobs", params=[("status", "completed"), ("status", "pending")])
    assert len(_ids(both)) == 4 and both.json()["total"] == 4
    assert _ids(viewer.get("/jobs", params={"workflow_id": str(world.a.workflows["typed"])})) == [
        typed["id"]
    ]
    assert _ids(viewer.get("/jobs", params={"sort": "created_at"}))[0] == echo[0]["id"]
    assert set(_ids(viewer.get("/jobs", params={"q": "ECHO"}))) == {j["id"] for j in echo}
    by_name = viewer.get("/jobs", params={"q": "echo", "status": "pending"}).json()
    assert (by_name["total"], by_name["total_exact"]) == (2, True)
    assert _ids(viewer.get("/jobs", params={"q": typed["id"][:8]})) == [typed["id"]]
    assert _ids(viewer.get("/jobs", params={"q": typed["id"]})) == [typed["id"]]
    assert _ids(viewer.get("/jobs", params={"q": "zz-nothing"})) == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert _ids(viewer.get("/jobs", params={"created_after": future})) == []
    assert len(_ids(viewer.get("/jobs", params={"created_before": future}))) == 4
    assert viewer.get("/jobs", params={"created_before": future}).json()["total_exact"]


def test_list_parameter_errors(world: World) -> None:
    viewer = world.a.viewer
    for params in (
        {"limit": 0},
        {"limit": 201},
        {"skip": -1},
        {"status": "done"},
        {"sort": "name"},
        {"workflow_id": ""},
        {"created_after": "yesterday"},
        {"cursor": "%%%"},
    ):
        response = viewer.get("/jobs", params=params)
        assert response.status_code == 422, params
        assert error_of(response)["details"], params
    assert viewer.get("/jobs", params={"limit": 200}).status_code == 200
    assert viewer.get("/jobs", params={"workflow_id": "x"}).status_code == 404  # a name


def test_offset_and_cursor_pages(world: World) -> None:
    created = [world.create("echo3", {"i": i})["id"] for i in range(7)]
    newest_first = list(reversed(created))
    viewer = world.a.viewer
    assert _ids(viewer.get("/jobs", params={"skip": 2, "limit": 3})) == newest_first[2:5]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = viewer.get("/jobs", params=params).json()
        seen += [j["id"] for j in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first
    asc = viewer.get("/jobs", params={"sort": "created_at", "limit": 4}).json()
    rest = viewer.get(
        "/jobs", params={"sort": "created_at", "limit": 4, "cursor": asc["next_cursor"]}
    ).json()
    assert [j["id"] for j in asc["items"] + rest["items"]] == created
    wrong_order = viewer.get("/jobs", params={"cursor": asc["next_cursor"]})
    assert wrong_order.status_code == 422 and "sort order" in error_of(wrong_order)["message"]
    completed = viewer.get("/jobs", params={"status": "pending", "limit": 5}).json()
    more = viewer.get(
        "/jobs", params={"status": "pending", "limit": 5, "cursor": completed["next_cursor"]}
    ).json()
    assert [j["id"] for j in completed["items"] + more["items"]] == newest_first


def test_counts(world: World) -> None:
    jobs = [world.create("echo3")]
    world.run(jobs[0])
    jobs += [world.create("echo3") for _ in range(2)]
    world.a.operator.post(f"/jobs/{jobs[1]['id']}/cancel")
    counts = world.a.viewer.get("/jobs/counts").json()
    assert counts == {
        "total": 3,
        "by_status": {"pending": 1, "running": 0, "completed": 1, "failed": 0, "cancelled": 1},
        "waiting": 0,
    }
    typed = world.a.viewer.get(
        "/jobs/counts", params={"workflow_id": str(world.a.workflows["typed"])}
    ).json()
    assert typed["total"] == 0
    assert world.b.viewer.get("/jobs/counts").json()["total"] == 0


def test_cancel_resume_rerun_delete(world: World) -> None:
    op = world.a.operator
    job = world.create("echo3", {"x": 1})
    running_delete = op.delete(f"/jobs/{job['id']}")
    assert (
        running_delete.status_code == 409
        and error_of(running_delete)["code"] == "invalid_transition"
    )
    rerun_early = op.post(f"/jobs/{job['id']}/rerun")
    assert rerun_early.status_code == 409 and "finished" in error_of(rerun_early)["message"]
    cancelled = op.post(f"/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = op.post(f"/jobs/{job['id']}/cancel")
    assert again.status_code == 409 and "cancelled" in error_of(again)["message"]
    resumed = op.post(f"/jobs/{job['id']}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "pending"
    assert world.run(job)["status"] == "completed"
    not_resumable = op.post(f"/jobs/{job['id']}/resume")
    assert (
        not_resumable.status_code == 409
        and "failed or cancelled" in error_of(not_resumable)["message"]
    )
    rerun = op.post(f"/jobs/{job['id']}/rerun")
    assert rerun.status_code == 201
    assert rerun.json()["rerun_of"] == job["id"] and rerun.json()["input_payload"] == {"x": 1}
    assert op.delete(f"/jobs/{job['id']}").status_code == 204
    assert op.get(f"/jobs/{job['id']}").status_code == 404
    assert op.delete(f"/jobs/{job['id']}").status_code == 404
    assert op.get(f"/jobs/{rerun.json()['id']}").json()["rerun_of"] is None  # the link is cleared
    assert op.post(f"/jobs/{uuid.uuid4()}/cancel").status_code == 404
    assert op.get("/jobs/not-a-uuid").status_code == 422


def test_failed_job_resume(world: World) -> None:
    job = world.create("broken")
    failed = world.run(job)
    assert failed["status"] == "failed"
    body = world.a.viewer.get(f"/jobs/{job['id']}").json()
    assert body["error_message"].startswith("Step 'Boom' failed")
    assert world.a.operator.post(f"/jobs/{job['id']}/resume").json()["status"] == "pending"


def test_bulk(world: World) -> None:
    op = world.a.operator
    done = world.create("echo3")
    world.run(done)
    pending = [world.create("echo3") for _ in range(2)]
    foreign = world.create("echo3", ws=world.b)
    ids = [pending[0]["id"], pending[1]["id"], done["id"], foreign["id"], pending[0]["id"]]
    result = op.post("/jobs/bulk", json={"action": "cancel", "ids": ids}).json()
    assert result["succeeded"] == 2 and result["failed"] == 2
    by_id = {r["id"]: r for r in result["results"]}
    assert [r["id"] for r in result["results"]] == ids[:4]
    assert by_id[pending[0]["id"]]["status_before"] == "pending"
    assert by_id[pending[0]["id"]]["status_after"] == "cancelled"
    assert by_id[done["id"]]["error"]["code"] == "invalid_transition"
    assert by_id[foreign["id"]]["error"]["code"] == "not_found"
    deleted = op.post(
        "/jobs/bulk", json={"action": "delete", "ids": [p["id"] for p in pending] + [done["id"]]}
    ).json()
    assert deleted["succeeded"] == 3
    assert world.a.viewer.get("/jobs").json()["total"] == 0
    assert world.b.viewer.get(f"/jobs/{foreign['id']}").json()["status"] == "pending"
    assert op.post("/jobs/bulk", json={"action": "pause", "ids": ids}).status_code == 422
    assert op.post("/jobs/bulk", json={"action": "cancel", "ids": []}).status_code == 422
    assert (
        world.a.viewer.post("/jobs/bulk", json={"action": "cancel", "ids": ids}).status_code == 403
    )
