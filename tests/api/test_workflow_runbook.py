"""Seed 000's runbook, command by command, against the real app with a real worker process:
the same paths, bodies and fields as its curl commands (BASE_URL=.../api, a bearer token),
including idempotent replays of create and execute, results paging, the synthetic failed job,
bulk approve/reject and the ontology patch; roles and workspaces; the /api/v1 review twins."""

from __future__ import annotations

import os
import signal
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from backend.db import connect
from backend.workflows.service import register_workflow
from examples import load_workflow
from tests.api.conftest import World

CONTRACT_STEPS = [
    "sources",
    "index_extract",
    "summarize",
    "proposals",
    "review",
    "apply",
    "analytics",
]
CREATE_BODY = {
    "workflow": "memory_first_v2",
    "idempotency_key": "job-create-001",
    "metadata": {"operator": "cli", "note": "runbook test"},
}
EXECUTE_BODY = {
    "idempotency_key": "step-proposals-001",
    "payload": {"limit": 50, "provider": "xai", "model": "grok-2-latest", "root_prefix": None},
}


def base_client(world: World, token: str) -> TestClient:
    """A client of BASE_URL=http://host/api with `Authorization: Bearer <token>`."""
    return TestClient(
        world.app, base_url="http://testserver/api", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
def runbook(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """memory_first_v2 registered in both workspaces, and a real worker process."""
    monkeypatch.setenv("JOBMONITOR_DATA_DIR", str(tmp_path / "data"))
    with connect(autocommit=True) as conn, conn.transaction():
        for ws in (world.a, world.b):
            register_workflow(conn, ws.id, load_workflow("memory_first_v2"))
    worker = world.engine.spawn_worker(simple=True, burst=False)
    try:
        yield world
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except Exception:
                os.killpg(worker.pid, signal.SIGKILL)


def poll_status(
    api: TestClient, job_id: str, until: Callable[[dict[str, Any]], bool], timeout: float = 90
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/workflow/jobs/{job_id}/status").json()
        if until(body["job"]):
            return body["job"]  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"status never matched: {body}"
        time.sleep(0.2)


def steps_of(job: dict[str, Any]) -> dict[str, str]:
    return {s["step"]: s["status"] for s in job["stepper"]}


def test_the_runbook_as_written(runbook: World) -> None:
    world = runbook
    api = base_client(world, world.a.tokens["operator"])
    # 1) create, and replay it
    created = api.post("/workflow/jobs", json=CREATE_BODY)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["success"] is True
    job = body["job"]
    assert job["status"] == "queued" and job["workflow"] == "memory_first_v2"
    assert job["metadata"] == CREATE_BODY["metadata"] and job["draft_state"] == "none"
    assert {"job_id", "current_step", "progress", "created_at"} <= set(job)
    job_id = job["job_id"]
    replay = api.post("/workflow/jobs", json=CREATE_BODY)
    assert replay.status_code == 200 and replay.json()["job"]["job_id"] == job_id
    header = api.post(
        "/workflow/jobs",
        json={k: v for k, v in CREATE_BODY.items() if k != "idempotency_key"},
        headers={"Idempotency-Key": "job-create-001"},
    )
    assert header.status_code == 200 and header.json()["job"]["job_id"] == job_id
    clash = api.post("/workflow/jobs", json={**CREATE_BODY, "input_payload": {"records": 5}})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "idempotency_conflict"

    # 2) status: runs to the manual step and waits there
    waiting = poll_status(api, job_id, lambda j: steps_of(j).get("proposals") == "waiting")
    assert [s["step"] for s in waiting["stepper"]] == CONTRACT_STEPS
    assert waiting["status"] == "running" and waiting["current_step"] == "proposals"
    assert 0.0 < waiting["progress"] < 1.0 and waiting["draft_state"] == "none"
    assert steps_of(waiting)["review"] == "pending"
    world.create("echo3")  # a job that waits for nobody
    listed = world.a.viewer.get("/jobs", params={"waiting": True}).json()
    assert [j["id"] for j in listed["items"]] == [job_id] and listed["total"] == 1
    assert listed["items"][0]["waiting_for"] == "manual"
    assert world.a.viewer.get("/jobs/counts").json()["waiting"] == 1

    # 3) execute proposals, and replay it
    executed = api.post(f"/workflow/jobs/{job_id}/steps/proposals/execute", json=EXECUTE_BODY)
    assert executed.status_code == 200, executed.text
    result = executed.json()
    assert result["success"] is True and result["step"] == "proposals"
    assert result["result"]["summary"] == "Generated 50 proposal(s)"
    assert result["result"]["provider"] == "xai" and result["replayed"] is False
    again = api.post(f"/workflow/jobs/{job_id}/steps/proposals/execute", json=EXECUTE_BODY)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["attempt"] == result["attempt"]
    other = {**EXECUTE_BODY, "payload": {**EXECUTE_BODY["payload"], "limit": 5}}
    conflict = api.post(f"/workflow/jobs/{job_id}/steps/proposals/execute", json=other)
    assert conflict.status_code == 409
    bad = api.post(
        f"/workflow/jobs/{job_id}/steps/proposals/execute",
        json={"payload": {"limit": 0, "provider": "acme"}},
    )
    assert bad.status_code == 422
    fields = {tuple(d["loc"]) for d in bad.json()["error"]["details"]}
    assert ("payload", "limit") in fields and ("payload", "provider") in fields
    not_manual = api.post(f"/workflow/jobs/{job_id}/steps/apply/execute", json={"payload": {}})
    assert not_manual.status_code == 409

    # 4) results: the items themselves are paged
    page = api.get(f"/workflow/jobs/{job_id}/results?step=proposals&limit=100&offset=0").json()
    assert page["total"] == 50 and len(page["items"]) == 50
    five = api.get(f"/workflow/jobs/{job_id}/results?step=proposals&limit=5&offset=45").json()
    assert five["total"] == 50 and [i["id"] for i in five["items"]] == [
        i["id"] for i in page["items"][45:]
    ]
    summarize = api.get(f"/workflow/jobs/{job_id}/results?step=summarize").json()
    assert summarize["total"] == 1 and summarize["items"][0]["summarized"] > 0
    for query in ("limit=0", "limit=501", "offset=-1"):
        assert api.get(f"/workflow/jobs/{job_id}/results?{query}").status_code == 422
    in_review = poll_status(api, job_id, lambda j: steps_of(j)["review"] == "waiting")
    assert in_review["draft_state"] == "proposed" and in_review["current_step"] == "review"

    # optional: bulk approve/reject and the ontology patch
    ids = [i["id"] for i in page["items"]]
    viewer = base_client(world, world.a.tokens["viewer"])
    denied = viewer.post(
        f"/workflow/jobs/{job_id}/proposals/bulk", json={"ids": ids[:2], "action": "approve"}
    )
    assert denied.status_code == 403
    approved = api.post(
        f"/workflow/jobs/{job_id}/proposals/bulk",
        json={"ids": [*ids[:10], "p_unknown"], "action": "approve", "note": "good"},
    ).json()
    assert [r["ok"] for r in approved["results"]] == [True] * 10 + [False]
    assert approved["counts"] == {"total": 50, "approved": 10, "rejected": 0, "undecided": 40}
    api.post(f"/workflow/jobs/{job_id}/proposals/bulk", json={"ids": ids[10:], "action": "reject"})
    patched = api.patch(
        f"/workflow/jobs/{job_id}/proposals/{ids[0]}/ontology", json={"tags": ["reviewed"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["proposal"]["item"]["ontology"]["tags"] == ["reviewed"]
    assert patched.json()["proposal"]["original"]["ontology"] != {"tags": ["reviewed"]}
    wrong = api.patch(f"/workflow/jobs/{job_id}/proposals/{ids[0]}/ontology", json={"type": 3})
    assert wrong.status_code == 422
    assert api.get(f"/workflow/jobs/{job_id}/status").json()["job"]["draft_state"] == "in_review"

    # the generic twin submits; apply uses exactly the approved items
    v1 = world.a.operator
    submitted = v1.post(f"/jobs/{job_id}/review/submit", json={})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["counts"]["approved"] == 10
    done = poll_status(api, job_id, lambda j: j["status"] != "running")
    assert done["status"] == "completed" and done["draft_state"] == "applied"
    apply = api.get(f"/workflow/jobs/{job_id}/results?step=apply").json()["items"][0]
    assert apply["applied_ids"] == ids[:10] and apply["tags"] >= 1
    analytics = api.get(f"/workflow/jobs/{job_id}/results").json()
    assert analytics["step"] == "analytics" and analytics["items"][0]["proposals"] == 50
    detail = v1.get(f"/jobs/{job_id}").json()
    assert detail["metadata"] == CREATE_BODY["metadata"] and detail["draft_state"] == "applied"
    exported = v1.get(f"/jobs/{job_id}/export").json()
    assert exported["job"]["metadata"] == CREATE_BODY["metadata"]


def test_unknown_jobs_are_synthetic_failed_on_the_status_route_only(runbook: World) -> None:
    world = runbook
    api = base_client(world, world.a.tokens["viewer"])
    for job_id in ("wf_abc123", str(uuid.uuid4())):
        response = api.get(f"/workflow/jobs/{job_id}/status")
        assert response.status_code == 200
        body = response.json()
        assert body["success"] is False and body["job"]["status"] == "failed"
        assert body["job"]["job_id"] == job_id and "not found" in body["error"]
    other = base_client(world, world.b.tokens["operator"]).post(
        "/workflow/jobs", json={"workflow": "memory_first_v2"}
    )
    b_job = other.json()["job"]["job_id"]
    assert api.get(f"/workflow/jobs/{b_job}/status").json()["success"] is False
    assert world.a.viewer.get(f"/jobs/{b_job}/status").status_code == 404
    assert api.get(f"/workflow/jobs/{b_job}/results").status_code == 404
    operator = base_client(world, world.a.tokens["operator"])
    assert (
        operator.post(
            f"/workflow/jobs/{b_job}/steps/proposals/execute", json={"payload": {}}
        ).status_code
        == 404
    )
    assert (
        operator.post(
            f"/workflow/jobs/{b_job}/proposals/bulk", json={"ids": ["x"], "action": "reject"}
        ).status_code
        == 404
    )
    assert world.anonymous.get(f"/workflow/jobs/{b_job}/status").status_code in (401, 404)
    anonymous = TestClient(world.app, base_url="http://testserver/api")
    assert anonymous.get(f"/workflow/jobs/{b_job}/status").status_code == 401


def test_metadata_is_an_object_of_at_most_16_kb(world: World) -> None:
    api = world.a.operator
    too_big = {"blob": "x" * (16 * 1024)}
    response = api.post("/jobs", json={"workflow": "echo3", "metadata": too_big})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"][-1] == "metadata"
    assert api.post("/jobs", json={"workflow": "echo3", "metadata": [1]}).status_code == 422
    job = world.create("echo3", metadata={"operator": "cli", "n": 1})
    assert job["metadata"] == {"operator": "cli", "n": 1}
    with connect() as conn:
        count = conn.execute("SELECT count(*) AS n FROM jobs").fetchone()
    assert count is not None and count["n"] == 1  # the refused ones left no row
