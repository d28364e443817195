"""The telemetry contract's route family (`/api/workflows/...`) and its root WebSockets
(`/ws/workflows/...`): the same services and numbers as `/api/v1`, its names and shapes."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from backend.auth.service import create_token
from backend.db import connect
from backend.jobs.timeline import summary
from tests.api.conftest import World, error_of

ROOT = "http://testserver"


def get(world: World, path: str, role: str = "viewer", **kwargs: Any) -> Any:
    return world.a.clients[role].get(ROOT + path, **kwargs)


def test_timeline_and_execution_match_v1(world: World) -> None:
    job = world.create("flaky")
    world.run(job)
    seed = get(world, f"/api/workflows/executions/{job['id']}/timeline")
    assert seed.status_code == 200
    assert seed.json() == world.a.viewer.get(f"/jobs/{job['id']}/timeline").json()
    detail = get(world, f"/api/workflows/executions/{job['id']}").json()
    assert detail["id"] == job["id"] and detail["workflow_id"] == job["workflow_id"]
    assert detail["status"] == "completed" and detail["execution_number"] == 1
    assert detail["input_variables"] == {} and detail["results"] == {"try": {"attempt": 3}}
    assert detail["duration"] > 0 and detail["created_at"] and detail["updated_at"]
    (step,) = detail["step_executions"]
    assert step["execution_id"] == job["id"] and step["status"] == "completed"
    assert step["step_id"] == str(uuid.uuid5(uuid.UUID(job["workflow_id"]), "try"))
    assert step["output_data"] == {"attempt": 3} and step["duration"] > 0
    assert step["input_data"] == {"params": {"fail_times": 2}, "upstream": {}}
    for name in ("id", "started_at", "completed_at"):
        assert step[name], name


def test_retry_count_is_attempts_minus_one_everywhere(world: World) -> None:
    """Events, timeline, step executions and the steps route show the same number."""
    job = world.create("flaky")  # fails twice, completes on attempt 3
    world.run(job)
    attempts = world.a.viewer.get(f"/jobs/{job['id']}/steps/try/attempts").json()["attempts"]
    retries = len(attempts) - 1
    assert retries == 2
    timeline = get(world, f"/api/workflows/executions/{job['id']}/timeline").json()
    detail = get(world, f"/api/workflows/executions/{job['id']}").json()
    steps = world.a.viewer.get(f"/jobs/{job['id']}/steps").json()["steps"]
    assert timeline["step_timeline"][0]["retry_count"] == retries
    assert detail["step_executions"][0]["retry_count"] == retries
    assert steps[0]["retry_count"] == retries and steps[0]["attempt_number"] == retries + 1
    events = [e for e in world.engine.events(uuid.UUID(job["id"]))]
    failed = [e["data"]["retry_count"] for e in events if e["type"] == "step_failed"]
    completed = [e["data"]["retry_count"] for e in events if e["type"] == "step_completed"]
    assert failed == [0, 1] and completed == [retries]


def test_a_failing_step_emits_step_failed_per_attempt(world: World) -> None:
    job = world.create("broken")  # one attempt, fails: step_failed once, no retrying
    world.run(job)
    types = [e["type"] for e in world.engine.events(uuid.UUID(job["id"]))]
    assert types.count("step_failed") == 1 and "retrying" not in types
    timeline = get(world, f"/api/workflows/executions/{job['id']}/timeline").json()
    entry = timeline["step_timeline"][0]
    assert timeline["failed_step_count"] == 1 and entry["retry_count"] == 0
    assert entry["output_summary"] == {}, "a step that ran has a summary, never null"
    assert entry["error_message"] == "planned failure 1/5"


def test_metrics_success_rate_over_finished_executions(world: World) -> None:
    done, failed = world.create("flaky"), world.create("broken")
    world.run(done)
    world.run(failed)
    cancelled = world.create("echo3")  # (running a job works the whole queue)
    assert world.a.operator.post(f"/jobs/{cancelled['id']}/cancel").status_code == 200
    world.create("echo3")  # pending: not counted
    flaky = get(world, "/api/workflows/flaky/metrics").json()
    assert flaky["success_rate"] == 100.0 and flaky["total_executions"] == 1
    echo = get(world, f"/api/workflows/{world.a.workflows['echo3']}/metrics").json()
    assert echo["total_executions"] == 2 and echo["finished_executions"] == 1
    assert echo["success_rate"] == 0.0, "a cancelled execution is finished, not successful"
    assert get(world, "/api/workflows/broken/metrics").json()["success_rate"] == 0.0
    assert echo == world.a.viewer.get(f"/workflows/{world.a.workflows['echo3']}/metrics").json()
    spec = world.anonymous.get(ROOT + "/api/openapi.json").json()
    described = spec["paths"]["/api/workflows/{workflow_id}/metrics"]["get"]["description"]
    assert "completed / (completed + failed + cancelled)" in described
    field = spec["components"]["schemas"]["WorkflowMetricsSummary"]["properties"]["success_rate"]
    assert "pending and running" in field["description"]


def test_executions_paging_and_status_filter(world: World) -> None:
    jobs = [world.create("flaky")]
    world.run(jobs[0])  # (running a job works the whole queue)
    jobs += [world.create("flaky") for _ in range(2)]
    jobs = jobs[::-1]  # newest first
    page = get(world, "/api/workflows/flaky/executions", params={"skip": 1, "limit": 1}).json()
    assert (page["total"], page["skip"], page["limit"]) == (3, 1, 1)
    assert [i["id"] for i in page["items"]] == [jobs[1]["id"]]
    default = get(world, "/api/workflows/flaky/executions").json()
    assert default["limit"] == 10 and len(default["items"]) == 3
    done = get(world, "/api/workflows/flaky/executions", params={"status": "completed"}).json()
    assert [i["id"] for i in done["items"]] == [jobs[2]["id"]] and done["total"] == 1
    for bad in ({"limit": 101}, {"status": "exploded"}, {"skip": -1}):
        response = get(world, "/api/workflows/flaky/executions", params=bad)
        assert response.status_code == 422, bad
        assert error_of(response)["details"][0]["loc"][0] == "query"


def test_workspace_headers_roles_and_scoping(world: World) -> None:
    job = world.create("echo3", ws=world.b)
    path = f"/api/workflows/executions/{job['id']}"
    assert get(world, path, role="admin").status_code == 404
    # a workspace admin is confined to its workspace: picking another one is 404 too
    other = {"X-Workspace-Id": str(world.b.id)}
    assert get(world, path, role="admin", headers=other).status_code == 404
    with connect(autocommit=True) as conn, conn.transaction():
        token, _ = create_token(conn, world.a.id, "ops", "admin", instance_admin=True)
    ops = world.client(token)
    picked = ops.get(ROOT + path, headers=other)
    assert picked.status_code == 200 and picked.json()["id"] == job["id"]
    by_slug = ops.get(ROOT + path, headers={"X-Workspace-Slug": world.b.slug})
    assert by_slug.status_code == 200
    assert get(world, path, headers=other).status_code == 404  # existence is not revealed
    assert world.anonymous.get(ROOT + path).status_code == 401
    assert get(world, "/api/workflows/executions/not-a-uuid").status_code == 422


def test_summaries_are_truncated() -> None:
    assert summary(None, ran=False) is None and summary(None, ran=True) == {}
    assert summary({"a": 1}, ran=True) == {"a": 1} and summary([1], ran=True) == {"value": [1]}
    big = {f"k{i}": "x" * 200 for i in range(30)}
    out = summary(big, ran=True)
    assert out is not None and out["truncated"] is True and out["key_count"] == 30
    assert out["keys"][:2] == ["k0", "k1"] and len(out["keys"]) == 20
    assert out["first_items"]["k0"].endswith("…") and len(out["first_items"]) == 3
    rows = summary([{"n": i, "pad": "y" * 300} for i in range(50)], ran=True)
    assert rows is not None and rows["length"] == 50 and len(rows["first_items"]) == 3
    assert rows["first_items"][0]["type"] == "object"


def _receive(ws: Any, count: int) -> list[dict[str, Any]]:
    return [ws.receive_json() for _ in range(count)]


def test_root_websockets_with_the_contract_messages(world: World) -> None:
    workflow = world.a.workflows["echo3"]
    step_b = str(uuid.uuid5(workflow, "b"))
    auth = {"Authorization": f"Bearer {world.a.tokens['viewer']}"}
    client = world.anonymous
    with (
        client.websocket_connect(f"/ws/workflows/{workflow}", headers=auth) as all_ws,
        client.websocket_connect(f"/ws/workflows/{workflow}/step/{step_b}", headers=auth) as b_ws,
        client.websocket_connect("/ws/workflows/echo3/step/c", headers=auth) as c_ws,
    ):
        time.sleep(0.3)
        job = world.create("echo3")
        world.run(job)
        b_events = _receive(b_ws, 3)
        c_events = _receive(c_ws, 3)
        everything = []
        while not everything or everything[-1]["event"] != "workflow_completed":
            everything.append(all_ws.receive_json())
    assert [m["event"] for m in b_events] == ["step_queued", "step_started", "step_completed"]
    done = b_events[-1]["data"]
    assert done["step_id"] == step_b and done["step_name"] and done["execution_id"] == job["id"]
    assert done["duration_seconds"] is not None and done["timestamp"] and "output" in done
    assert {m["data"]["step_key"] for m in c_events} == {"c"}
    started = next(m for m in everything if m["event"] == "workflow_started")
    assert started["data"]["execution_id"] == job["id"] and started["data"]["timestamp"]
    assert everything[-1]["data"]["duration_seconds"] > 0


def test_root_websockets_authenticate_and_check_origin(world: World) -> None:
    url = f"/ws/workflows/{world.a.workflows['echo3']}"
    client = world.anonymous
    token = world.a.tokens["viewer"]
    for headers in ({}, {"Cookie": f"jm_session={token}"}):  # a cookie needs a browser Origin
        with (
            client.websocket_connect(url, headers=headers) as ws,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            ws.receive_json()
        assert closed.value.code == 4401
    browser = {"Cookie": f"jm_session={token}", "Origin": "http://testserver"}
    with client.websocket_connect(url, headers=browser) as ws:
        time.sleep(0.3)
        world.create("echo3")
        assert ws.receive_json()["event"] == "workflow_created"
    evil = {"Cookie": f"jm_session={token}", "Origin": "https://evil.example"}
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url, headers=evil):
        pass
    assert refused.value.code == 1008
    with client.websocket_connect(url, subprotocols=["jobmonitor", f"bearer.{token}"]) as ws:
        assert ws.accepted_subprotocol == "jobmonitor"
    auth = {"Authorization": f"Bearer {token}"}
    with (
        client.websocket_connect(f"{url}/step/nope", headers=auth) as ws,
        pytest.raises(WebSocketDisconnect) as missing,
    ):
        ws.receive_json()
    assert missing.value.code == 4404


def test_jobs_carry_tenant_id(world: World) -> None:
    job = world.create("echo3")
    assert job["tenant_id"] == job["workspace_id"] == str(world.a.id)
    listed = world.a.viewer.get("/jobs").json()["items"][0]
    assert listed["tenant_id"] == str(world.a.id)


def test_workflow_filters_take_a_name_or_an_id(world: World) -> None:
    """Issue 19.2: `?workflow_id=<name>` answered 422."""
    job = world.create("echo3")
    world.create("flaky")
    by_name = world.a.viewer.get("/jobs", params={"workflow_id": "echo3"})
    assert by_name.status_code == 200 and [i["id"] for i in by_name.json()["items"]] == [job["id"]]
    by_id = world.a.viewer.get("/jobs", params={"workflow_id": job["workflow_id"]}).json()
    assert [i["id"] for i in by_id["items"]] == [job["id"]]
    counts = world.a.viewer.get("/jobs/counts", params={"workflow_id": "echo3"}).json()
    assert counts["total"] == 1
    missing = world.a.viewer.get("/jobs", params={"workflow_id": "echo4"})
    assert missing.status_code == 404 and error_of(missing)["details"]["suggestions"] == ["echo3"]


def test_a_cancelled_step_keeps_the_duration_of_its_times(world: World) -> None:
    """Issue 19.1: a cancelled step's duration kept counting after it ended."""
    definition = {
        "name": "slow-retry",
        "steps": [
            {
                "key": "s",
                "action": "test.flaky",
                "params": {"fail_times": 5},
                "retry": {"max_attempts": 3, "backoff_seconds": 600},
            }
        ],
    }
    assert world.a.admin.post("/workflows", json=definition).status_code == 201
    job = world.create("slow-retry")
    world.engine.work()  # attempt 1 fails; the step waits 600 s to retry
    assert world.a.operator.post(f"/jobs/{job['id']}/cancel").status_code == 200
    time.sleep(1.5)
    (step,) = world.a.viewer.get(f"/jobs/{job['id']}/steps").json()["steps"]
    assert step["status"] == "cancelled"
    from datetime import datetime

    recorded = (
        datetime.fromisoformat(step["completed_at"]) - datetime.fromisoformat(step["started_at"])
    ).total_seconds()
    assert abs(step["duration_seconds"] - recorded) < 0.001
    entry = get(world, f"/api/workflows/executions/{job['id']}/timeline").json()["step_timeline"]
    assert abs(entry[0]["duration_seconds"] - recorded) < 0.001
    detail = get(world, f"/api/workflows/executions/{job['id']}").json()["step_executions"]
    assert abs(detail[0]["duration"] - recorded) < 0.001


def test_runs_and_total_executions_are_one_number(world: World) -> None:
    """Issue 19.3: the workflows list counted deleted jobs."""
    jobs = [world.create("echo3") for _ in range(3)]
    world.run(jobs[0])
    assert world.a.operator.delete(f"/jobs/{jobs[0]['id']}").status_code == 204
    listed = world.a.viewer.get("/workflows", params={"q": "echo3"}).json()["items"][0]
    detail = world.a.viewer.get("/workflows/echo3").json()
    metrics = world.a.viewer.get("/workflows/echo3/metrics").json()
    assert (
        listed["execution_count"] == detail["execution_count"] == metrics["total_executions"] == 2
    )
    assert world.create("echo3")["execution_number"] == 4, "numbers are never reused"


def test_a_large_upstream_output_is_recorded_as_a_reference(world: World) -> None:
    big = "x" * 70_000
    definition = {
        "name": "big-output",
        "steps": [
            {"key": "a", "action": "test.echo", "params": {"blob": big}},
            {"key": "b", "action": "test.echo", "depends_on": ["a"]},
        ],
    }
    assert world.a.admin.post("/workflows", json=definition).status_code == 201
    job = world.create("big-output")
    world.run(job)
    a, b = world.a.viewer.get(f"/jobs/{job['id']}/steps").json()["steps"]
    assert a["output_data"]["params"]["blob"] == big
    ref = b["input_data"]["upstream"]["a"]
    assert ref["ref"] == {"step": "a", "field": "output_data"} and ref["size_bytes"] > 65_536
    assert b["output_data"]["upstream"] == ["a"], "the step itself was given the whole output"
    entry = get(world, f"/api/workflows/executions/{job['id']}/timeline").json()["step_timeline"]
    assert entry[0]["input_summary"]["truncated"] is True
    assert entry[0]["input_summary"]["keys"] == ["params", "upstream"]
