"""The cross-workspace matrix: every route given another workspace's ids answers 404, lists
never show another workspace's objects, and viewers get 403 on every mutation. The routes
come from the OpenAPI document, so a new route is covered without editing this file."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.api.conftest import TestClient, World

MUTATIONS = {"post", "put", "patch", "delete"}
# a body that passes validation, so that only the role or the ids can refuse the request
BODIES = {
    "/api/v1/jobs": {"workflow": "echo3"},
    "/api/v1/jobs/bulk": {"action": "cancel", "ids": ["00000000-0000-0000-0000-000000000000"]},
    "/api/v1/workflows": {"name": "x", "steps": [{"key": "a", "action": "test.noop"}]},
    "/api/v1/tokens": {"name": "x", "role": "viewer"},
    "/api/v1/workspaces": {"slug": "x"},
    "/api/v1/jobs/{job_id}/review/decisions": {"ids": ["i1"], "decision": "approve"},
    "/api/v1/jobs/{job_id}/review/items/{item_id}": {"fields": {"label": "x"}},
    "/api/workflow/jobs": {"workflow": "echo3"},
    "/api/workflow/jobs/{job_id}/proposals/bulk": {"ids": ["p1"], "action": "approve"},
    "/api/workflow/jobs/{job_id}/proposals/{proposal_id}/ontology": {"tags": ["x"]},
    "/api/v1/schedules": {"workflow": "echo3", "name": "x", "cron": "0 * * * *"},
    "/api/v1/triggers": {"name": "x", "source_workflow": "echo3", "target_workflow": "echo3"},
    "/api/v1/continuous": {
        "workflow": "echo3",
        "expected_work": "test.pending_rows",
        "channel": "x",
    },
    "/api/v1/channels": {"name": "x", "url": "http://192.0.2.1/hook"},
    "/api/v1/budgets": {"period": "day", "limit_usd": 1},
    "/api/v1/triggers/{trigger_id}": {"enabled": False},
    "/api/v1/schedules/{schedule_id}": {"enabled": False},
    "/api/v1/continuous/{continuous_id}": {"enabled": False},
}
# routes whose contract answers another workspace's id without a 404 (seed 000's synthetic
# failed job; tests/api/test_workflow_runbook.py checks it)
SYNTHETIC = {"/api/workflow/jobs/{job_id}/status"}
# path parameters of the human-step routes, the same in both matrices
HUMAN_IDS = {"step_name": "a", "item_id": "i1", "proposal_id": "p1"}

# path parameters of the automation routes (a viewer is refused before the id is looked up)
AUTOMATION_IDS = (
    "schedule_id",
    "trigger_id",
    "continuous_id",
    "channel_id",
    "rule_id",
    "budget_id",
)

# a viewer's own saved views are preferences, not changes to jobs (test_views.py covers them)
VIEWER_MAY = {("/api/v1/views", "post"), ("/api/v1/views/{view_id}", "delete")}


def _operations(world: World) -> list[tuple[str, str]]:
    spec = world.anonymous.get("http://testserver/api/openapi.json").json()
    return [(path, method) for path, item in spec["paths"].items() for method in item]


@pytest.fixture
def foreign(world: World) -> dict[str, str]:
    """Objects of workspace B, after running one job so it has attempts and logs."""
    world.run(world.create("broken", ws=world.b))  # a failure group
    job = world.create("echo3", ws=world.b)
    world.run(job)
    pending = world.create("echo3", ws=world.b)
    token = world.b.admin.post("/tokens", json={"name": "b-extra", "role": "viewer"}).json()
    view = world.b.admin.post("/views", json={"name": "v", "query": "cost>1", "shared": True})
    return {
        "job_id": pending["id"],
        "done_job_id": job["id"],
        "other_id": job["id"],
        "workflow_id": str(world.b.workflows["echo3"]),
        "step": "a",
        "token_id": token["id"],
        **HUMAN_IDS,
        "fingerprint": world.b.viewer.get("/failures").json()["items"][0]["fingerprint"],
        "view_id": view.json()["id"],
        **_automation(world.b.admin),
    }


def _automation(admin: TestClient) -> dict[str, str]:
    """A schedule, trigger, continuous workflow, channel, alert rule and budget."""
    ids = {}
    for key, path in [
        ("schedule_id", "/api/v1/schedules"),
        ("trigger_id", "/api/v1/triggers"),
        ("continuous_id", "/api/v1/continuous"),
        ("channel_id", "/api/v1/channels"),
        ("budget_id", "/api/v1/budgets"),
    ]:
        response = admin.post("http://testserver" + path, json=BODIES[path])
        assert response.status_code == 201, (path, response.text)
        ids[key] = response.json()["id"]
    rule = {
        "name": "r",
        "kind": "job_failed",
        "workflows": ["echo3"],
        "channels": [ids["channel_id"]],
    }
    response = admin.post("/alert-rules", json=rule)
    assert response.status_code == 201, response.text
    return {**ids, "rule_id": response.json()["id"]}


def _call(client: TestClient, method: str, path: str, body: Any = None) -> Any:
    url = "http://testserver" + path
    if method in ("post", "put", "patch"):
        return client.request(method.upper(), url, json=body if body is not None else {})
    return client.request(method.upper(), url)


def test_every_route_with_foreign_ids_is_404(world: World, foreign: dict[str, str]) -> None:
    checked = 0
    for path, method in _operations(world):
        params = re.findall(r"{(\w+)}", path)
        if not params or path in SYNTHETIC:
            continue
        for key in ("job_id", "done_job_id"):
            values = {**foreign, "job_id": foreign[key], "execution_id": foreign[key]}
            url = path.format(**{p: values[p] for p in params})
            response = _call(world.a.admin, method, url, BODIES.get(path))
            assert response.status_code == 404, (method, url, response.status_code, response.text)
            checked += 1
    assert checked >= 2 * 16
    assert world.a.admin.get("/events", params={"job_id": foreign["job_id"]}).status_code == 404
    assert (
        world.a.admin.get("/events", params={"workflow_id": foreign["workflow_id"]}).status_code
        == 404
    )
    created = world.a.operator.post("/jobs", json={"workflow_id": foreign["workflow_id"]})
    assert created.status_code == 404
    bulk = world.a.operator.post(
        "/jobs/bulk", json={"action": "cancel", "ids": [foreign["job_id"]]}
    ).json()
    assert bulk["results"][0]["error"]["code"] == "not_found"
    assert world.b.viewer.get(f"/jobs/{foreign['job_id']}").json()["status"] == "pending"


def test_websockets_with_foreign_ids_close_404(world: World, foreign: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {world.a.tokens['admin']}"}
    for url in (
        f"/api/v1/ws/jobs/{foreign['job_id']}",
        f"/api/v1/ws/workflows/{foreign['workflow_id']}",
        f"/ws/workflows/{foreign['workflow_id']}",
        f"/ws/workflows/{foreign['workflow_id']}/step/a",
    ):
        with (
            world.a.admin.websocket_connect(url, headers=headers) as ws,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            ws.receive_json()
        assert closed.value.code == 4404


def test_lists_never_show_foreign_objects(world: World, foreign: dict[str, str]) -> None:
    world.create("echo3")
    world.a.admin.post("/tokens", json={"name": "a-extra", "role": "viewer"})
    secrets = set(foreign.values()) - {"a"} | {
        str(world.b.id),
        *(str(w) for w in world.b.workflows.values()),
    }
    lists = [
        "/jobs",
        "/jobs?q=echo",
        f"/jobs?q={foreign['job_id'][:6]}",
        "/jobs/counts",
        "/workflows",
        "/workflows/echo3/executions",
        "/audit",
        "/tokens",
        "/me",
        "/metrics",
        "/schedules",
        "/triggers",
        "/continuous",
        "/channels",
        "/alert-rules",
        "/budgets",
    ]
    for url in lists:
        response = world.a.admin.get(url)
        assert response.status_code == 200, (url, response.text)
        leaked = [s for s in secrets if s in response.text]
        assert not leaked, (url, leaked)
    assert world.a.viewer.get("/jobs/counts").json()["total"] == 1
    filtered = world.a.viewer.get("/jobs", params={"workflow_id": foreign["workflow_id"]})
    assert filtered.status_code == 404, "another workspace's workflow is not there"
    assert [w["slug"] for w in world.a.viewer.get("/workspaces").json()["items"]] == ["alpha"]


def test_viewers_get_403_on_every_mutation(world: World, foreign: dict[str, str]) -> None:
    own = world.create("echo3")
    values = {
        "job_id": own["id"],
        "workflow_id": str(world.a.workflows["echo3"]),
        "step": "a",
        "token_id": foreign["token_id"],
        **HUMAN_IDS,
        "other_id": own["id"],
        "fingerprint": "0" * 32,
        **{k: v for k, v in foreign.items() if k.endswith(AUTOMATION_IDS)},
    }
    checked = 0
    for path, method in _operations(world):
        if method not in MUTATIONS or (path, method) in VIEWER_MAY:
            continue
        url = path.format(**{p: values[p] for p in re.findall(r"{(\w+)}", path)})
        response = _call(world.a.viewer, method, url, BODIES.get(path))
        assert response.status_code == 403, (method, url, response.status_code, response.text)
        checked += 1
    assert checked >= 10
    assert world.a.viewer.get(f"/jobs/{own['id']}").json()["status"] == "pending"
