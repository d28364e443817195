"""The runs routes: history scoped to the workspace with its filters, the run report, a
workflow's pre-flight, the run modes on POST /jobs, and precise 4xx for bad input."""

from __future__ import annotations

from tests.api.conftest import World, error_of


def test_history_is_scoped_and_filtered(world: World) -> None:
    mine = world.create("echo3")
    world.run(mine)
    item = world.create("echo3", mode="single_item", item_id="4920")
    other = world.create("echo3", ws=world.b)
    runs = world.a.viewer.get("/runs").json()
    assert [r["id"] for r in runs["items"]] == [item["id"], mine["id"]]
    assert other["id"] not in {r["id"] for r in runs["items"]}
    assert runs["items"][0]["mode"] == "single_item" and runs["items"][0]["item_id"] == "4920"
    assert runs["items"][1]["status"] == "completed" and runs["items"][1]["steps_completed"] == 3
    assert runs["items"][1]["requested_by"].startswith("token:")
    only = world.a.viewer.get("/runs", params={"mode": "single_item"}).json()["items"]
    assert [r["id"] for r in only] == [item["id"]]
    done = world.a.viewer.get("/runs", params={"status": "completed", "workflow": "echo3"})
    assert [r["id"] for r in done.json()["items"]] == [mine["id"]]
    assert world.a.viewer.get("/runs", params={"workflow": "nope"}).status_code == 404
    assert world.b.viewer.get(f"/runs/{mine['id']}/report").status_code == 404


def test_report_lists_attempts_and_issues(world: World) -> None:
    job = world.create("broken")
    world.run(job)
    report = world.a.viewer.get(f"/runs/{job['id']}/report").json()
    assert report["run"]["status"] == "failed" and report["run"]["steps_failed"] == 1
    assert report["attempts"] == {"failed": 1}
    assert report["issues"][0]["error_type"] == "RuntimeError"


def test_preflight_reports_checks(world: World) -> None:
    world.create("single")  # pending: a second global_batch start would be refused
    report = world.a.operator.get("/workflows/single/preflight").json()
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is False and checks["duplicate run"]["verdict"] == "fail"
    assert checks["snapshot"]["verdict"] == "warn"  # the workflow names none
    assert world.a.viewer.get("/workflows/single/preflight").status_code == 403
    bad = world.a.operator.get("/workflows/single/preflight", params={"waiting_after": -1})
    assert bad.status_code == 422 and error_of(bad)["details"][0]["loc"][-1] == "waiting_after"


def test_modes_on_create_are_checked(world: World) -> None:
    no_item = world.a.operator.post("/jobs", json={"workflow": "echo3", "mode": "single_item"})
    assert no_item.status_code == 422 and error_of(no_item)["details"][0]["loc"][-1] == "item_id"
    stray = world.a.operator.post("/jobs", json={"workflow": "echo3", "item_id": "7"})
    assert stray.status_code == 422
    resume = world.a.operator.post("/jobs", json={"workflow": "echo3", "mode": "single_run"})
    assert resume.status_code == 422 and error_of(resume)["details"][0]["loc"][-1] == "mode"
    assert world.a.viewer.get("/runs").json()["items"] == []  # nothing half-written


def test_a_rerun_keeps_the_mode_and_item_and_records_its_requester(world: World) -> None:
    item = world.create("echo3", mode="single_item", item_id="4920")
    world.run(item)
    again = world.a.operator.post(f"/jobs/{item['id']}/rerun").json()
    run = world.a.viewer.get("/runs", params={"limit": 1}).json()["items"][0]
    assert run["id"] == again["id"]
    assert (run["mode"], run["item_id"]) == ("single_item", "4920")
    assert run["requested_by"].startswith("token:")
