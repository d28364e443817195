"""Prometheus metrics in multiprocess mode: what two API processes (`jobmonitor api --workers
2`), two forking workers and a reaper record is in one scrape, read with prometheus_client's
own parser; the instance's scrape token sees every workspace, an API token its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from backend.jobs.states import JOB_TERMINAL
from cli.services.system import free_port
from tests.integration.conftest import Engine, chain

JOBS = 6
SCRAPE_TOKEN = "scrape-" + "x" * 32


def _samples(text: str, name: str, **labels: str) -> list[Any]:
    return [
        sample
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    ]


def _total(text: str, name: str, **labels: str) -> float:
    return sum(s.value for s in _samples(text, name, **labels))


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args], env=dict(os.environ), start_new_session=True
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def _wait_until(check: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_one_scrape_counts_every_process(
    engine: Engine, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMONITOR_METRICS_TOKEN", SCRAPE_TOKEN)
    workflow = f"metered_{os.getpid()}"
    engine.register(chain(workflow, "fetch", "store"))
    slug = engine.slug
    token = engine.token("operator", "metrics")
    other = engine.token("viewer", "other", workspace=f"{slug}-other")

    port = free_port(48000)
    api_process = _spawn("api", "--port", str(port), "--workers", "2")
    processes = [api_process]
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        _wait_until(lambda: api.get("/healthz").status_code == 200, "the API")
        scraper = httpx.Client(headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"}, timeout=30)
        before = scraper.get(f"{base}/metrics").text  # other tests of this run count too
        ids = []
        for n in range(JOBS):
            created = api.post("/jobs", json={"workflow": workflow, "input_payload": {"n": n}})
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        Redis.from_url(redis_url).flushdb()  # the messages are lost: the reaper re-enqueues
        processes.append(_spawn("reaper", "--interval", "0.5"))
        processes.append(_spawn("worker", "--count", "2"))
        _wait_until(
            lambda: all(api.get(f"/jobs/{i}").json()["status"] in JOB_TERMINAL for i in ids),
            "the jobs",
        )
        text = scraper.get(f"{base}/metrics").text
        mine = api.get("/metrics").text
        theirs = httpx.get(
            f"{base}/metrics", headers={"Authorization": f"Bearer {other}"}, timeout=30
        ).text
        wrong = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer nope"}, timeout=30)
    finally:
        for process in processes:
            _stop(process)

    # step durations, from both worker processes, per workflow and step
    for step in ("fetch", "store"):
        counted = _total(
            text, "jobmonitor_step_duration_seconds_count", workflow=workflow, step=step
        )
        assert counted == JOBS, (step, counted)
        assert (
            _total(text, "jobmonitor_step_duration_seconds_sum", workflow=workflow, step=step) > 0
        )
    # request latency, from both API processes: every create counted once
    creates = {"method": "POST", "route": "/api/v1/jobs", "status": "201"}
    count = "jobmonitor_api_request_duration_seconds_count"
    assert _total(text, count, **creates) - _total(before, count, **creates) == JOBS
    # the reaper's recoveries, and the values read at scrape time
    requeued = "jobmonitor_reaper_recoveries_total"
    assert (
        _total(text, requeued, kind="requeued") - _total(before, requeued, kind="requeued") >= JOBS
    )
    assert _total(text, "jobmonitor_jobs", workspace=slug, status="completed") == JOBS
    assert _total(text, "jobmonitor_redis_up") == 1
    assert _samples(text, "jobmonitor_workers") and _samples(text, "jobmonitor_queue_depth")

    # scopes: the scrape token sees both workspaces, an API token only its own
    assert _samples(text, "jobmonitor_jobs", workspace=f"{slug}-other")
    assert _total(mine, "jobmonitor_step_duration_seconds_count", workflow=workflow) == 2 * JOBS
    assert not _samples(mine, "jobmonitor_jobs", workspace=f"{slug}-other")
    assert not _samples(theirs, "jobmonitor_step_duration_seconds_count", workspace=slug)
    assert _total(theirs, "jobmonitor_jobs", workspace=f"{slug}-other") == 0
    assert wrong.status_code == 401


def test_an_unusable_directory_never_stops_a_request(engine: Engine, tmp_path: Path) -> None:
    token = engine.token("viewer", "alone")
    (tmp_path / "a-file").write_text("not a directory")
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env["JOBMONITOR_METRICS_DIR"] = str(tmp_path / "a-file" / "metrics")
    port = free_port(48200)
    api = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "api", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}/api"
        _wait_until(lambda: httpx.get(f"{base}/healthz", timeout=2).status_code == 200, "the API")
        scrape = httpx.get(
            f"{base}/v1/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
    finally:
        _stop(api)
    assert scrape.status_code == 200
    count = "jobmonitor_api_request_duration_seconds_count"
    assert _total(scrape.text, count, route="/api/healthz", status="200") >= 1
    assert api.stderr is not None and b"this process counts alone" in api.stderr.read()
