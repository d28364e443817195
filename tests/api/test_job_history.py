"""The job's event history (`GET /jobs/{id}/events`) and all its attempts (`GET
/jobs/{id}/attempts`): order, the step filter, who cancelled / resumed / re-ran, paging,
workspace scoping, validation and redaction (issue 15)."""

from __future__ import annotations

from backend.redaction import REDACTED
from tests.api.conftest import World, error_of
from tests.api.test_redaction import HIDDEN, INPUT, LEAKY

SLOW_RETRY = {
    "name": "slow-retry-history",
    "steps": [
        {"key": "first", "action": "test.noop"},
        {
            "key": "flaky",
            "action": "test.flaky",
            "params": {"fail_times": 5},
            "depends_on": ["first"],
            "retry": {"max_attempts": 3, "backoff_seconds": 600},
        },
    ],
}


def _events(world: World, job_id: str, **params: str) -> list[dict]:  # type: ignore[type-arg]
    response = world.a.viewer.get(f"/jobs/{job_id}/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def test_a_run_reads_in_order_and_filters_by_step(world: World) -> None:
    job = world.create("flaky")  # `try` fails twice, then succeeds
    world.run(job)
    events = _events(world, job["id"])
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    types = [e["type"] for e in events]
    assert types[0] == "workflow_created" and types[-1] == "workflow_completed"
    assert events[0]["actor"].startswith("token:operator-token (jm_")
    assert [e["attempt"] for e in events if e["type"] == "step_started"] == [1, 2, 3]
    assert types.count("retrying") == 2 and types.count("step_failed") == 2
    (step,) = world.a.viewer.get(f"/jobs/{job['id']}/steps").json()["steps"]
    assert {e["step_name"] for e in events if e["step_key"] == "try"} == {step["name"]}
    # each attempt's start comes before its failure, the failure before the retry
    order = [(e["type"], e["attempt"]) for e in events if e["step_key"] == "try"]
    assert order.index(("step_started", 1)) < order.index(("step_failed", 1))
    assert order.index(("step_failed", 1)) < order.index(("retrying", 1))
    assert order.index(("retrying", 1)) < order.index(("step_started", 2))
    started = next(e for e in events if e["type"] == "step_started")
    assert started["data"]["worker"] and started["to_status"] == "running"

    only = _events(world, job["id"], step="try")
    assert only == [e for e in events if e["step_key"] == "try"]


def test_cancel_resume_and_rerun_say_who(world: World) -> None:
    assert world.a.admin.post("/workflows", json=SLOW_RETRY).status_code == 201
    job = world.create("slow-retry-history")
    world.engine.work()  # first completes; flaky fails and waits 600 s to retry
    world.engine.work()
    assert world.a.operator.post(f"/jobs/{job['id']}/cancel").status_code == 200
    assert world.a.admin.post(f"/jobs/{job['id']}/resume").status_code == 200
    assert world.a.admin.post(f"/jobs/{job['id']}/cancel").status_code == 200
    rerun = world.a.operator.post(f"/jobs/{job['id']}/rerun", json={"from_step": "flaky"})
    assert rerun.status_code == 201, rerun.text
    events = _events(world, job["id"])
    who = {"token:operator-token": "operator", "token:admin-token": "admin", "": "-"}
    acts = [
        (e["type"], who[(e["actor"] or "").partition(" (")[0]])
        for e in events
        if e["step_key"] is None and e["type"] != "workflow_started"
    ]
    assert acts == [
        ("workflow_created", "operator"),
        ("cancelled", "operator"),
        ("workflow_resumed", "admin"),
        ("cancelled", "admin"),
        ("job_rerun", "operator"),
    ]
    last = events[-1]
    assert last["data"]["new_job_id"] == rerun.json()["id"] and last["data"]["from_step"] == "flaky"
    created = _events(world, rerun.json()["id"])[0]
    assert created["type"] == "workflow_created" and created["data"]["rerun_of"] == job["id"]
    # the retry wait shows: a retrying event with its delay, and the step's cancellation
    retrying = next(e for e in events if e["type"] == "retrying")
    assert retrying["data"]["retry_in_seconds"] >= 60 and retrying["attempt"] == 1
    assert any(e["type"] == "step_cancelled" and e["step_key"] == "flaky" for e in events)


def test_pages_follow_the_cursor(world: World) -> None:
    job = world.create("echo3")
    world.run(job)
    everything = _events(world, job["id"])
    seen, cursor = [], None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = world.a.viewer.get(f"/jobs/{job['id']}/events", params=params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
        assert len(page["items"]) == 3
    assert seen == everything and len(everything) > 6
    tail = world.a.viewer.get(f"/jobs/{job['id']}/events", params={"cursor": cursor}).json()
    assert tail["items"] == [] and tail["next_cursor"] == cursor and not tail["has_more"]


def test_another_workspace_and_unknown_things_are_404(world: World) -> None:
    job = world.create("echo3")
    for path in ("events", "attempts"):
        other = world.b.admin.get(f"/jobs/{job['id']}/{path}")
        assert other.status_code == 404 and error_of(other)["code"] == "not_found"
        missing = world.a.viewer.get(f"/jobs/00000000-0000-0000-0000-000000000000/{path}")
        assert missing.status_code == 404
    unknown = world.a.viewer.get(f"/jobs/{job['id']}/events", params={"step": "nope"})
    assert unknown.status_code == 404
    assert error_of(unknown)["details"]["steps"] == ["a", "b", "c"]


BAD = [
    ("limit", "0"),
    ("limit", "1001"),
    ("limit", "many"),
    ("cursor", "-1"),
    ("cursor", "abc"),
    ("cursor", "99999999999999999999"),
    ("step", ""),
    ("step", "x" * 101),
]


def test_bad_parameters_are_422_naming_the_parameter(world: World) -> None:
    job = world.create("echo3")
    for name, value in BAD:
        response = world.a.viewer.get(f"/jobs/{job['id']}/events", params={name: value})
        assert response.status_code == 422, (name, value, response.text)
        error = error_of(response)
        assert error["code"] == "invalid_input" and name in response.text, error


def test_a_malformed_job_id_is_422(world: World) -> None:
    for path in ("events", "attempts"):
        assert world.a.viewer.get(f"/jobs/not-a-uuid/{path}").status_code == 422


def test_event_data_is_redacted(world: World) -> None:
    assert world.a.admin.post("/workflows", json=LEAKY).status_code == 201
    job = world.create("leaky", INPUT)
    world.run(job)
    for client in (world.a.viewer, world.a.admin):
        events = client.get(f"/jobs/{job['id']}/events")
        attempts = client.get(f"/jobs/{job['id']}/attempts")
        assert events.status_code == attempts.status_code == 200
        assert [s for s in HIDDEN if s in events.text] == []
        assert [s for s in HIDDEN if s in attempts.text] == []
    failed = next(e for e in events.json()["items"] if e["type"] == "step_failed")
    assert failed["data"]["error"].startswith("leaked: ") and REDACTED in failed["data"]["error"]


def test_attempts_of_every_step_on_one_axis(world: World) -> None:
    job = world.create("flaky")
    world.run(job)
    body = world.a.viewer.get(f"/jobs/{job['id']}/attempts").json()
    (step,) = body["steps"]
    assert step["step_key"] == "try" and step["status"] == "completed"
    numbers = [a["attempt_number"] for a in step["attempts"]]
    assert numbers == [1, 2, 3]
    assert [a["status"] for a in step["attempts"]] == ["failed", "failed", "completed"]
    for a in step["attempts"]:
        assert a["worker_name"] and a["started_at"] <= a["finished_at"] <= body["now"]
    assert step["attempts"][0]["error_message"].startswith("planned failure 1/2")
