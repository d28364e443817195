"""Workflows: list, read, register (and versions), metrics, executions."""

from __future__ import annotations

from backend.db import connect
from tests.api.conftest import World, error_of

NEW = {"name": "fresh", "description": "d", "steps": [{"key": "one", "action": "test.noop"}]}


def test_list_and_read(world: World) -> None:
    viewer = world.a.viewer
    listed = viewer.get("/workflows").json()
    names = [w["name"] for w in listed["items"]]
    assert names == sorted(names) and "echo3" in names and listed["total"] == len(names)
    echo = next(w for w in listed["items"] if w["name"] == "echo3")
    assert echo["step_count"] == 3 and echo["latest_version"] == 1
    assert [w["name"] for w in viewer.get("/workflows", params={"q": "ech"}).json()["items"]] == [
        "echo3"
    ]
    page = viewer.get("/workflows", params={"skip": 1, "limit": 2}).json()
    assert page["items"][0]["name"] == names[1] and len(page["items"]) == 2
    by_id = viewer.get(f"/workflows/{echo['id']}").json()
    by_name = viewer.get("/workflows/echo3").json()
    assert by_id == by_name
    assert [s["key"] for s in by_id["definition"]["steps"]] == ["a", "b", "c"]
    assert by_id["version"] == 1 and [v["version"] for v in by_id["versions"]] == [1]
    missing = viewer.get("/workflows/echo")
    assert missing.status_code == 404 and "echo3" in error_of(missing)["details"]["suggestions"]
    assert viewer.get("/workflows/echo3", params={"version": 9}).status_code == 404


def test_register_versions(world: World) -> None:
    admin = world.a.admin
    created = admin.post("/workflows", json=NEW)
    assert (
        created.status_code == 201
        and created.json()["created"] is True
        and created.json()["version"] == 1
    )
    same = admin.post("/workflows", json=NEW)
    assert same.status_code == 200 and same.json()["created"] is False
    changed = admin.post(
        "/workflows", json={**NEW, "steps": [{"key": "one", "action": "test.echo"}]}
    )
    assert changed.status_code == 201 and changed.json()["version"] == 2
    assert [v["version"] for v in changed.json()["versions"]] == [1, 2]
    v1 = world.a.viewer.get("/workflows/fresh", params={"version": 1}).json()
    assert v1["definition"]["steps"][0]["action"] == "test.noop"
    job = world.create("fresh")
    assert job["workflow_version"] == 2
    assert world.b.viewer.get("/workflows/fresh").status_code == 404


def test_register_lists_every_problem(world: World) -> None:
    bad = {
        "name": "bad",
        "steps": [
            {"key": "a", "action": "no.such.action", "depends_on": ["b"]},
            {"key": "b", "action": "test.noop", "depends_on": ["a", "ghost"]},
        ],
    }
    response = world.a.admin.post("/workflows", json=bad)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_definition"
    messages = " | ".join(p["msg"] for p in error["details"])
    assert "unknown action 'no.such.action'" in messages
    assert "unknown step 'ghost'" in messages
    assert "cycle" in messages
    shape = world.a.admin.post(
        "/workflows", json={"name": "x", "steps": [{"key": "A B", "action": ""}], "color": 1}
    )
    assert shape.status_code == 422
    locs = [p["loc"] for p in error_of(shape)["details"]]
    assert ["steps", 0, "key"] in locs and ["steps", 0, "action"] in locs and ["color"] in locs


def test_metrics(world: World) -> None:
    ok = world.create("echo3")
    world.run(ok)
    bad = world.create("broken")
    world.run(bad)
    metrics = world.a.viewer.get(f"/workflows/{world.a.workflows['echo3']}/metrics").json()
    assert metrics["total_executions"] == 1 and metrics["successful_executions"] == 1
    assert metrics["success_rate"] == 100.0 and metrics["failed_executions"] == 0
    assert metrics["average_duration_seconds"] > 0 and metrics["p50_duration_seconds"] > 0
    assert (
        metrics["min_duration_seconds"]
        <= metrics["p95_duration_seconds"]
        <= metrics["max_duration_seconds"]
    )
    assert metrics["total_cost_usd"] == 0.75 and metrics["sampled_executions"] == 1
    broken = world.a.viewer.get("/workflows/broken/metrics").json()
    assert broken["success_rate"] == 0.0 and broken["failed_executions"] == 1
    empty = world.a.viewer.get("/workflows/typed/metrics").json()
    assert empty["total_executions"] == 0 and empty["average_duration_seconds"] == 0.0
    assert empty["min_duration_seconds"] is None
    assert world.a.viewer.get("/workflows/typed/metrics", params={"window": 0}).status_code == 422


def test_executions(world: World) -> None:
    first = world.create("echo3", {"n": 1})
    world.run(first)
    second = world.create("echo3", {"n": 2})
    viewer = world.a.viewer
    page = viewer.get("/workflows/echo3/executions").json()
    assert page["total"] == 2 and page["skip"] == 0 and page["limit"] == 10
    items = page["items"]
    assert [i["id"] for i in items] == [second["id"], first["id"]]
    assert items[1]["execution_number"] == 1 and items[1]["status"] == "completed"
    assert items[1]["input_variables"] == {"n": 1} and items[1]["results"]["c"]["step"] == "c"
    assert items[1]["duration"] > 0
    assert [
        i["id"]
        for i in viewer.get("/workflows/echo3/executions", params={"status": "pending"}).json()[
            "items"
        ]
    ] == [second["id"]]
    assert viewer.get("/workflows/echo3/executions", params={"status": "timeout"}).json() == {
        "items": [],
        "total": 0,
        "skip": 0,
        "limit": 10,
    }
    assert viewer.get("/workflows/echo3/executions", params={"limit": 101}).status_code == 422
    assert viewer.get("/workflows/echo3/executions", params={"status": "lost"}).status_code == 422


def test_timeout_status_in_executions(world: World) -> None:
    job = world.create("broken")
    world.run(job)
    with connect() as conn:  # as if the step had timed out
        conn.execute("UPDATE job_steps SET status = 'timed_out' WHERE job_id = %s", (job["id"],))
        conn.commit()
    viewer = world.a.viewer
    timeouts = viewer.get("/workflows/broken/executions", params={"status": "timeout"}).json()
    assert [i["status"] for i in timeouts["items"]] == ["timeout"] and timeouts["total"] == 1
    assert (
        viewer.get("/workflows/broken/executions", params={"status": "failed"}).json()["total"] == 0
    )
