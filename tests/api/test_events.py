"""Live events: SSE in order, resumable with Last-Event-ID, gap reads; WebSockets with the
telemetry messages, authentication and the Origin check."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from starlette.websockets import WebSocketDisconnect

from backend.jobs.outbox import Outbox
from backend.jobs.states import record_event
from tests.api.conftest import World

Event = tuple[int, str, dict[str, Any]]


def read_sse(
    base: str,
    token: str,
    params: dict[str, Any],
    headers: dict[str, str] | None = None,
    stop: int | None = None,
    timeout: float = 30,
) -> list[Event]:
    """Read events until the server ends the stream (or `stop` events arrived)."""
    events: list[Event] = []
    fields: dict[str, str] = {}
    with httpx.stream(
        "GET",
        f"{base}/events",
        params=params,
        timeout=timeout,
        headers={"Authorization": f"Bearer {token}", **(headers or {})},
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line == "":
                if "data" in fields:
                    events.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
                    if stop is not None and len(events) >= stop:
                        return events
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    return events


def stored(world: World, job_id: str) -> list[tuple[int, str]]:
    return [(e["id"], e["type"]) for e in world.engine.events(uuid.UUID(job_id))]


def test_sse_replays_a_finished_job_in_order(world: World, live_server: str) -> None:
    job = world.create("flaky")
    world.run(job)
    events = read_sse(
        live_server, world.a.tokens["viewer"], {"job_id": job["id"], "until_terminal": "true"}
    )
    assert [(i, t) for i, t, _ in events] == stored(world, job["id"])
    types = [t for _, t, _ in events]
    assert types[0] == "workflow_created" and types[-1] == "workflow_completed"
    assert "retrying" in types and types.count("step_started") == 3
    started = next(d for _, t, d in events if t == "step_started")
    assert (
        started["execution_id"] == job["id"]
        and started["step_id"] == str(uuid.uuid5(uuid.UUID(job["workflow_id"]), "try"))
        and started["step_key"] == "try"
        and started["step_name"]
    )
    # every failed attempt: step_failed with its retry count (attempts - 1), then retrying
    failures = [(t, d.get("retry_count")) for _, t, d in events if t in ("step_failed", "retrying")]
    assert failures == [("step_failed", 0), ("retrying", 0), ("step_failed", 1), ("retrying", 1)]
    assert started["timestamp"] and started["workflow_id"] == job["workflow_id"]
    completed = next(d for _, t, d in events if t == "step_completed")
    assert completed["duration_seconds"] is not None and completed["output"] == {"attempt": 3}
    finished = events[-1][2]
    assert finished["status"] == "completed" and finished["duration_seconds"] > 0


def test_sse_streams_live_events_and_resumes(world: World, live_server: str) -> None:
    job = world.create("echo3")
    received: list[Event] = []
    reader = threading.Thread(
        target=lambda: received.extend(
            read_sse(
                live_server,
                world.a.tokens["viewer"],
                {"job_id": job["id"], "until_terminal": "true"},
            )
        )
    )
    reader.start()
    time.sleep(0.5)
    world.run(job)
    reader.join(timeout=30)
    assert not reader.is_alive()
    ids = [i for i, _, _ in received]
    assert ids == sorted(ids) and [(i, t) for i, t, _ in received] == stored(world, job["id"])
    cut = ids[3]
    resumed = read_sse(
        live_server,
        world.a.tokens["viewer"],
        {"job_id": job["id"], "until_terminal": "true"},
        headers={"Last-Event-ID": str(cut)},
    )
    assert [i for i, _, _ in resumed] == [i for i in ids if i > cut]
    by_param = read_sse(
        live_server,
        world.a.tokens["viewer"],
        {"job_id": job["id"], "until_terminal": "true", "last_event_id": ids[-2]},
    )
    assert [i for i, _, _ in by_param] == ids[-1:]


def test_sse_reads_an_unpublished_event_from_postgres(world: World, live_server: str) -> None:
    job = world.create("echo3")
    last = stored(world, job["id"])[-1][0]
    received: list[Event] = []
    reader = threading.Thread(
        target=lambda: received.extend(
            read_sse(
                live_server,
                world.a.tokens["viewer"],
                {"job_id": job["id"], "last_event_id": last},
                stop=2,
            )
        )
    )
    reader.start()
    time.sleep(0.5)
    conn = world.engine.conn
    with conn.transaction():
        lost = record_event(
            conn, uuid.UUID(job["id"]), "log", data={"lines": 1, "last": "never published"}
        )
    outbox = Outbox()
    with conn.transaction():
        outbox.add_event(
            record_event(conn, uuid.UUID(job["id"]), "log", data={"lines": 1, "last": "published"})
        )
    outbox.flush(None)
    reader.join(timeout=10)
    assert [i for i, _, _ in received] == [lost["id"], lost["id"] + 1]
    assert [d["last"] for _, _, d in received] == ["never published", "published"]


def test_sse_filters_by_workflow_and_ends_at_timeout(world: World, live_server: str) -> None:
    received: list[Event] = []
    reader = threading.Thread(
        target=lambda: received.extend(
            read_sse(live_server, world.a.tokens["viewer"], {"workflow_id": "typed", "timeout": 3})
        )
    )
    reader.start()
    time.sleep(0.5)
    world.create("echo3")
    typed = world.create("typed", {"count": 1, "name": "n"})
    started = time.monotonic()
    reader.join(timeout=10)
    assert time.monotonic() - started < 5
    assert received and {d["job_id"] for _, _, d in received} == {typed["id"]}


def test_sse_errors(world: World, live_server: str) -> None:
    assert httpx.get(f"{live_server}/events").status_code == 401
    auth = {"Authorization": f"Bearer {world.a.tokens['viewer']}"}
    foreign = world.create("echo3", ws=world.b)
    assert (
        httpx.get(
            f"{live_server}/events", params={"job_id": foreign["id"]}, headers=auth
        ).status_code
        == 404
    )
    assert (
        httpx.get(
            f"{live_server}/events", params={"until_terminal": "true"}, headers=auth
        ).status_code
        == 422
    )
    bad = httpx.get(
        f"{live_server}/events",
        params={"job_id": foreign["id"]},
        headers={**auth, "Last-Event-ID": "x"},
    )
    assert bad.status_code == 422


def _ws_messages(world: World, url: str, count: int, **kwargs: Any) -> list[dict[str, Any]]:
    with world.a.viewer.websocket_connect(url, **kwargs) as ws:
        return [ws.receive_json() for _ in range(count)]


def test_websocket_job_messages(world: World) -> None:
    job = world.create("echo3")
    world.run(job)
    expected = stored(world, job["id"])
    auth = {"Authorization": f"Bearer {world.a.tokens['viewer']}"}
    messages = _ws_messages(world, f"/api/v1/ws/jobs/{job['id']}", len(expected), headers=auth)
    assert [(m["data"]["id"], m["event"]) for m in messages] == expected
    done = messages[-1]
    assert done["event"] == "workflow_completed"
    assert (
        done["data"]["execution_id"] == job["id"]
        and done["data"]["workflow_id"] == job["workflow_id"]
    )
    assert done["data"]["timestamp"] and done["data"]["status"] == "completed"


def test_websocket_workflow_messages_with_a_subprotocol_token(world: World) -> None:
    token = world.a.tokens["viewer"]
    url = f"/api/v1/ws/workflows/{world.a.workflows['echo3']}"
    with world.a.viewer.websocket_connect(
        url, subprotocols=["jobmonitor", f"bearer.{token}"]
    ) as ws:
        assert ws.accepted_subprotocol == "jobmonitor"
        time.sleep(0.3)
        job = world.create("echo3")
        first = ws.receive_json()
    assert first == {"event": "workflow_created", "data": first["data"]}
    assert first["data"]["execution_id"] == job["id"]


def test_websocket_auth_and_origin(world: World) -> None:
    job = world.create("echo3")
    url = f"/api/v1/ws/jobs/{job['id']}"
    auth = {"Authorization": f"Bearer {world.a.tokens['viewer']}"}
    for headers in ({}, {"Authorization": "Bearer jm_00000000_" + "x" * 43}):
        with (
            world.anonymous.websocket_connect(url, headers=headers) as ws,
            pytest.raises(WebSocketDisconnect) as closed,
        ):
            ws.receive_json()
        assert closed.value.code == 4401
    evil = {**auth, "Origin": "https://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        world.anonymous.websocket_connect(url, headers=evil),
    ):
        pass  # refused before the handshake completes
    assert refused.value.code == 1008
    same_origin = {**auth, "Origin": "http://testserver"}
    with world.anonymous.websocket_connect(url, headers=same_origin) as ws:
        assert ws.receive_json()["event"] == "workflow_created"
    with (
        world.anonymous.websocket_connect(
            f"/api/v1/ws/jobs/{job['id']}?token=abc", headers=auth
        ) as ws,
        pytest.raises(WebSocketDisconnect) as leaked,
    ):
        ws.receive_json()
    assert leaked.value.code == 4401
    with (
        world.anonymous.websocket_connect("/api/v1/ws/jobs/not-a-uuid", headers=auth) as ws,
        pytest.raises(WebSocketDisconnect) as missing,
    ):
        ws.receive_json()
    assert missing.value.code == 4404
