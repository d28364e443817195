"""OpenTelemetry tracing (the `tracing` extra), read with the SDK's in-memory exporter: a span
per API request and per step attempt (SimpleWorker and the forking worker), and none at all
when JOBMONITOR_TRACING is off (the default)."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from backend import tracing
from backend.api.app import create_app
from backend.db import close_api_pool
from backend.settings import reset_settings
from tests.api.conftest import serve_in_thread
from tests.integration.conftest import Engine, chain
from workers.process import build_worker

FLAKY = {
    "name": "traced_flaky",
    "steps": [
        {
            "key": "try",
            "action": "test.flaky",
            "params": {"fail_times": 1},
            "retry": {"max_attempts": 2, "backoff_seconds": 0},
        }
    ],
}


@pytest.fixture
def exporter(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[InMemorySpanExporter]:
    monkeypatch.setenv("JOBMONITOR_TRACING", "console")
    reset_settings()
    memory = InMemorySpanExporter()
    tracing.configure(memory)
    yield memory
    tracing.reset()


def _attempt_spans(memory: InMemorySpanExporter, job_id: uuid.UUID) -> list[Any]:
    found = [
        s
        for s in memory.get_finished_spans()
        if s.attributes.get("jobmonitor.job_id") == str(job_id)
    ]
    return sorted(found, key=lambda s: s.start_time)


def test_a_span_per_step_attempt(engine: Engine, exporter: InMemorySpanExporter) -> None:
    engine.register(chain("traced", "a", "b"))
    engine.register(FLAKY)
    job, flaky = engine.create("traced"), engine.create("traced_flaky")
    assert engine.drain(job)["status"] == "completed"
    assert engine.drain(flaky)["status"] == "completed"
    spans = _attempt_spans(exporter, job)
    assert [s.name for s in spans] == ["step a", "step b"]
    assert all(s.kind is SpanKind.CONSUMER for s in spans)
    assert dict(spans[0].attributes) == {
        "jobmonitor.job_id": str(job),
        "jobmonitor.attempt_id": spans[0].attributes["jobmonitor.attempt_id"],
        "jobmonitor.step": "a",
        "jobmonitor.attempt": 1,
        "jobmonitor.status": "completed",
    }
    tries = _attempt_spans(exporter, flaky)
    seen = [(s.attributes["jobmonitor.attempt"], s.attributes["jobmonitor.status"]) for s in tries]
    assert seen == [(1, "failed"), (2, "completed")]
    assert [s.status.status_code for s in tries] == [StatusCode.ERROR, StatusCode.UNSET]


def test_the_forking_worker_traces_in_its_own_process(
    engine: Engine, exporter: InMemorySpanExporter
) -> None:
    engine.register(chain("traced_fork", "only"))
    job = engine.create("traced_fork")
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        build_worker(simple=False).work(burst=True, logging_level="WARNING")
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert engine.job(job)["status"] == "completed"
    (only,) = _attempt_spans(exporter, job)
    assert only.name == "step only" and only.attributes["jobmonitor.status"] == "completed"


def test_a_span_per_api_request(engine: Engine, exporter: InMemorySpanExporter) -> None:
    token = engine.token("viewer", "tracing")
    engine.register(chain("traced_api", "a"))
    job = engine.create("traced_api")
    try:
        with serve_in_thread(create_app()) as base:
            answer = httpx.get(
                f"{base}/api/v1/jobs/{job}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
    finally:
        close_api_pool()
    assert answer.status_code == 200
    (request,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert request.name == "GET /api/v1/jobs/{job_id}"
    assert request.attributes["http.route"] == "/api/v1/jobs/{job_id}"
    assert request.attributes["http.response.status_code"] == 200
    assert request.attributes["url.path"] == f"/api/v1/jobs/{job}"
    assert request.attributes["jobmonitor.request_id"] == answer.headers["x-request-id"]
    assert request.status.status_code is StatusCode.UNSET


def test_off_by_default(engine: Engine) -> None:
    memory = InMemorySpanExporter()
    tracing.configure(memory)  # even with a tracer set up, the setting decides
    try:
        assert not tracing.enabled()
        engine.register(chain("untraced", "a"))
        assert engine.drain(engine.create("untraced"))["status"] == "completed"
        with tracing.span("anything") as current:
            current.set_attribute("ignored", 1)
        assert memory.get_finished_spans() == ()
    finally:
        tracing.reset()
