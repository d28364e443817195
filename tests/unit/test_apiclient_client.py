"""The typed API client against a fake API (httpx.MockTransport): routes, auth, models,
typed errors and the event stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from apiclient import client as c
from apiclient import errors
from tests import aio

JOB = {
    "id": "j1",
    "workflow_id": "w1",
    "workflow_name": "basic_sequence",
    "status": "running",
    "created_at": "2024-01-01T00:00:00Z",
    "input_payload": {"records": 3},
    "unknown_field": 1,
}


def fake(
    handler: Callable[[httpx.Request], httpx.Response],
) -> tuple[c.ApiClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return c.ApiClient("jm_tok", "http://api.test", transport=httpx.MockTransport(record)), seen


run = aio.run


def error(status: int, code: str, message: str, details: Any = None) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": message, "details": details}}
    )


def test_requests_carry_the_token_and_drop_empty_params() -> None:
    api, seen = fake(
        lambda r: httpx.Response(200, json={"items": [JOB], "total": 1, "skip": 0, "limit": 25})
    )
    page = run(api.list_jobs(status="running", q="", skip=0, limit=25))
    assert page.total == 1 and page.items[0].workflow_name == "basic_sequence"
    request = seen[0]
    assert request.headers["Authorization"] == "Bearer jm_tok"
    assert request.url.path == "/api/v1/jobs"
    assert dict(request.url.params) == {"status": "running", "skip": "0", "limit": "25"}


def test_create_job_body() -> None:
    api, seen = fake(lambda r: httpx.Response(201, json=JOB))
    job = run(api.create_job("w1", {"records": 3}, idempotency_key="k1"))
    assert job.input_payload == {"records": 3}
    assert json.loads(seen[0].content) == {
        "workflow_id": "w1",
        "input_payload": {"records": 3},
        "force": False,
        "idempotency_key": "k1",
    }


def test_counts_and_bulk_shapes() -> None:
    api, _ = fake(
        lambda r: httpx.Response(200, json={"total": 3, "by_status": {"running": 2, "failed": 1}})
    )
    assert run(api.job_counts()) == {"running": 2, "failed": 1}
    body = {
        "action": "cancel",
        "succeeded": 1,
        "failed": 1,
        "results": [
            {"id": "a", "ok": True, "status_before": "running", "status_after": "cancelled"},
            {
                "id": "b",
                "ok": False,
                "status_before": "completed",
                "error": {"code": "invalid_transition", "message": "job b is completed"},
            },
        ],
    }
    api, seen = fake(lambda r: httpx.Response(200, json=body))
    result = run(api.bulk("cancel", ["a", "b"]))
    assert [r.ok for r in result.results] == [True, False]
    assert result.results[1].reason == "job b is completed"
    assert json.loads(seen[0].content) == {"action": "cancel", "ids": ["a", "b"]}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, errors.Unauthorized),
        (403, errors.Forbidden),
        (404, errors.NotFound),
        (409, errors.Conflict),
        (422, errors.ValidationFailed),
        (429, errors.RateLimited),
        (500, errors.Unavailable),
        (503, errors.Unavailable),
        (400, errors.ApiError),
    ],
)
def test_errors_are_typed(status: int, cls: type[errors.ApiError]) -> None:
    details = [{"loc": ["input_payload", "records"], "msg": "bad"}]
    api, _ = fake(lambda r: error(status, "some_code", "what went wrong", details))
    with pytest.raises(cls) as info:
        run(api.get_job("j1"))
    assert type(info.value) is cls
    assert (info.value.message, info.value.code, info.value.details, info.value.status) == (
        "what went wrong",
        "some_code",
        details,
        status,
    )


def test_a_non_json_error_page_still_maps() -> None:
    api, _ = fake(lambda r: httpx.Response(404, text="<html>404</html>"))
    with pytest.raises(errors.NotFound, match="HTTP 404"):
        run(api.get_job("j1"))


def test_connection_failure_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api, _ = fake(refuse)
    with pytest.raises(errors.Unavailable, match="cannot reach the API"):
        run(api.workflows())


def test_event_stream_resumes_from_the_last_id() -> None:
    sse = (
        "id: 5\nevent: step_completed\ndata: "
        + json.dumps(
            {
                "id": 5,
                "job_id": "j1",
                "type": "step_completed",
                "step_key": "a",
                "to_status": "completed",
            }
        )
        + "\n\n: ping\n\n"
    )
    api, seen = fake(
        lambda r: httpx.Response(200, text=sse, headers={"content-type": "text/event-stream"})
    )
    opened: list[bool] = []

    async def read() -> list[Any]:
        return [
            e
            async for e in api.events(
                job_id="j1", last_event_id=4, on_open=lambda: opened.append(True)
            )
        ]

    events = run(read())
    assert [(e.id, e.step_key, e.to_status) for e in events] == [(5, "a", "completed")]
    assert opened == [True]
    assert seen[0].headers["Last-Event-ID"] == "4"
    assert seen[0].url.params["job_id"] == "j1"


def test_event_stream_refusal_is_typed() -> None:
    api, _ = fake(lambda r: error(404, "not_found", "no such route"))

    async def read() -> None:
        async for _ in api.events():
            pass

    with pytest.raises(errors.NotFound):
        run(read())


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBMONITOR_URL", raising=False)
    monkeypatch.setenv("REFLEX_BACKEND_PORT", "3123")
    assert c.default_base_url() == "http://127.0.0.1:3123"
    monkeypatch.setenv("JOBMONITOR_URL", "http://example.test:9/")
    assert c.default_base_url() == "http://example.test:9"
