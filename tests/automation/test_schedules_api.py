"""Schedules through the API: create, validation, scoping, next times, pause/resume, delete."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.api.conftest import World, error_of

HOURLY = {"workflow": "echo3", "name": "hourly", "cron": "0 * * * *"}


def test_create_read_list_next(world: World) -> None:
    op = world.a.operator
    created = op.post("/schedules", json={**HOURLY, "timezone": "Europe/Berlin"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["workflow_name"] == "echo3" and body["overlap"] == "skip"
    assert body["catchup"] == "none" and body["enabled"] is True
    due = datetime.fromisoformat(body["next_due_at"])
    assert due.minute == 0 and due.second == 0 and due > datetime.now(ZoneInfo("UTC"))
    assert world.a.viewer.get(f"/schedules/{body['id']}").json() == body
    listed = world.a.viewer.get("/schedules", params={"workflow": "echo3"}).json()["items"]
    assert [s["id"] for s in listed] == [body["id"]]
    assert world.a.viewer.get("/schedules", params={"workflow": "typed"}).json()["items"] == []
    times = world.a.viewer.get(f"/schedules/{body['id']}/next").json()
    parsed = [datetime.fromisoformat(t) for t in times["times"]]
    assert len(parsed) == 5 and parsed[0] == due
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(parsed))
    assert times["timezone"] == "Europe/Berlin"


def test_cron_in_time_zone_across_dst(world: World) -> None:
    """09:00 every day in Berlin stays 09:00 local, whatever the UTC offset."""
    body = world.a.operator.post(
        "/schedules",
        json={
            "workflow": "echo3",
            "name": "nine",
            "cron": "0 9 * * *",
            "timezone": "Europe/Berlin",
        },
    ).json()
    times = world.a.viewer.get(f"/schedules/{body['id']}/next", params={"count": 100}).json()
    local = [
        datetime.fromisoformat(t).astimezone(ZoneInfo("Europe/Berlin")) for t in times["times"]
    ]
    assert {(t.hour, t.minute) for t in local} == {(9, 0)}
    assert len({t.date() for t in local}) == 100


def test_validation_is_precise(world: World) -> None:
    op = world.a.operator
    cases = [
        ({**HOURLY, "cron": "61 * * * *"}, ["cron"]),
        ({**HOURLY, "timezone": "Mars/Base"}, ["timezone"]),
        ({**HOURLY, "interval_seconds": 60}, []),
        ({"workflow": "echo3", "name": "x"}, []),
        ({**HOURLY, "overlap": "sometimes"}, ["overlap"]),
        ({**HOURLY, "catchup_max": 0}, ["catchup_max"]),
        ({**HOURLY, "jitter_seconds": -1}, ["jitter_seconds"]),
        ({**HOURLY, "surprise": 1}, ["surprise"]),
        ({**HOURLY, "name": "has space"}, ["name"]),
    ]
    for body, loc in cases:
        response = op.post("/schedules", json=body)
        assert response.status_code == 422, (body, response.text)
        assert error_of(response)["details"][0]["loc"] == loc, (body, response.text)
    typed = op.post(
        "/schedules",
        json={
            "workflow": "typed",
            "name": "t",
            "interval_seconds": 60,
            "input_payload": {"count": 0},
        },
    )
    assert typed.status_code == 422
    locs = [p["loc"] for p in error_of(typed)["details"]]
    assert ["input_payload", "count"] in locs and ["input_payload", "name"] in locs
    assert world.a.viewer.get("/schedules").json()["items"] == []  # nothing half-written


def test_conflict_scoping_and_roles(world: World) -> None:
    first = world.a.operator.post("/schedules", json=HOURLY)
    assert first.status_code == 201
    again = world.a.operator.post("/schedules", json=HOURLY)
    assert again.status_code == 409 and error_of(again)["details"][0]["loc"] == ["name"]
    sid = first.json()["id"]
    assert world.a.viewer.post("/schedules", json={**HOURLY, "name": "v"}).status_code == 403
    assert world.a.viewer.post(f"/schedules/{sid}/pause").status_code == 403
    for method, path in [
        ("get", f"/schedules/{sid}"),
        ("get", f"/schedules/{sid}/next"),
        ("get", f"/schedules/{sid}/fires"),
        ("post", f"/schedules/{sid}/pause"),
        ("patch", f"/schedules/{sid}"),
        ("delete", f"/schedules/{sid}"),
    ]:
        kwargs = {"json": {}} if method == "patch" else {}
        response = getattr(world.b.admin, method)(path, **kwargs)
        assert response.status_code == 404, (method, path, response.text)
    assert world.b.admin.get("/schedules").json()["items"] == []
    other = world.b.operator.post(
        "/schedules", json={**HOURLY, "workflow": str(world.a.workflows["echo3"])}
    )
    assert other.status_code == 404


def test_pause_resume_update_delete(world: World) -> None:
    op = world.a.operator
    sid = op.post("/schedules", json=HOURLY).json()["id"]
    paused = op.post(f"/schedules/{sid}/pause").json()
    assert paused["enabled"] is False and paused["next_due_at"] is None
    assert len(op.get(f"/schedules/{sid}/next").json()["times"]) == 5  # when it would fire
    resumed = op.post(f"/schedules/{sid}/resume").json()
    assert resumed["enabled"] is True and resumed["next_due_at"] is not None
    changed = op.patch(f"/schedules/{sid}", json={"interval_seconds": 90, "overlap": "allow"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["cron"] is None and changed.json()["interval_seconds"] == 90
    assert op.patch(f"/schedules/{sid}", json={"cron": "* * *"}).status_code == 422
    audit = world.a.admin.get("/audit", params={"target": sid}).json()["items"]
    assert {"schedule.create", "schedule.pause", "schedule.resume", "schedule.update"} <= {
        a["action"] for a in audit
    }
    assert op.delete(f"/schedules/{sid}").status_code == 204
    assert op.get(f"/schedules/{sid}").status_code == 404
