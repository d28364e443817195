"""Redis Sentinel URLs (`redis+sentinel://host:port/master/db`) for workers, the reaper, the API
and its pub/sub: a private redis-server and a sentinel watching it, started here."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis

from backend.api.app import create_app
from backend.db import close_api_pool
from backend.queue import reset_redis
from backend.redis_url import SentinelTarget, describe, sentinel_target
from backend.settings import Settings, get_settings, reset_settings
from cli.services.system import free_port
from tests.api.conftest import serve_in_thread
from tests.integration.conftest import Engine, chain

MASTER = "jm-master"
DB = 2


def test_sentinel_urls_are_read_or_refused_with_the_reason() -> None:
    assert sentinel_target("redis://h:1/0") is None
    assert sentinel_target("redis+sentinel://:s3cret@a:26379,b:26380/main/4") == SentinelTarget(
        [("a", 26379), ("b", 26380)], "main", 4, None, "s3cret"
    )
    assert sentinel_target("redis+sentinel://a:1/main").db == 0  # type: ignore[union-attr]
    assert describe("redis+sentinel://:pw@a:1/main/4") == "Redis master 'main' (Sentinel a:1)"
    for bad in ("redis+sentinel://a:1", "redis+sentinel://a/main", "redis+sentinel://a:1/m/x"):
        with pytest.raises(ValueError):
            Settings(redis_url=bad)


def _wait(check: object, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(master port, sentinel port): a redis-server and a sentinel monitoring it."""
    binary = shutil.which("redis-server", path=f"{os.environ.get('PATH', '')}:/usr/bin:/usr/sbin")
    if binary is None:
        pytest.skip("redis-server not found (Debian package redis-server)")
    master_port, sentinel_port = free_port(47379), free_port(47380)
    master = subprocess.Popen(
        [
            binary,
            "--port",
            str(master_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {master_port} 1\n"
    )
    watcher = subprocess.Popen(
        [binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        asker = Redis(port=sentinel_port, socket_timeout=1, decode_responses=True)
        _wait(
            lambda: asker.sentinel_get_master_addr_by_name(MASTER) == ("127.0.0.1", master_port),
            "the sentinel to know the master",
        )
        yield master_port, sentinel_port
    finally:
        for process in (watcher, master):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)


@pytest.mark.slow
def test_jobs_and_events_through_sentinel(
    engine: Engine, sentinel: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    master_port, sentinel_port = sentinel
    monkeypatch.setenv(
        "JOBMONITOR_REDIS_URL", f"redis+sentinel://127.0.0.1:{sentinel_port}/{MASTER}/{DB}"
    )
    reset_settings()
    reset_redis()
    engine.register(chain("via_sentinel", "a", "b"))
    token = engine.token("operator", "sentinel")
    master = Redis(port=master_port, db=DB)
    listener = master.pubsub()
    listener.psubscribe(f"{get_settings().events_channel_prefix}:*")

    worker = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker"], env=dict(os.environ), start_new_session=True
    )
    try:
        with serve_in_thread(create_app(), timeout_graceful_shutdown=1) as base:
            api = httpx.Client(
                base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            assert api.get("/readyz").json()["checks"]["redis"] == {"ok": True}
            _wait(lambda: master.scard("rq:workers") == 1, "the worker to register on the master")
            with api.stream("GET", "/events", params={"timeout": 60}) as stream:
                channel = f"{get_settings().events_channel_prefix}:{engine.workspace_id}"
                _wait(lambda: master.pubsub_numsub(channel)[0][1] >= 1, "the API to subscribe")
                job = api.post("/jobs", json={"workflow": "via_sentinel", "input_payload": {}})
                assert job.status_code == 201, job.text
                job_id = job.json()["id"]
                names = _event_names(stream.iter_lines())
            assert names[0] == "workflow_created" and names[-1] == "workflow_completed", names
            assert names.count("step_completed") == 2
            assert api.get(f"/jobs/{job_id}").json()["status"] == "completed"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
        close_api_pool()
    messages = iter(lambda: listener.get_message(timeout=1), None)  # what reached the master
    published = [m["data"] for m in messages if m["type"] == "pmessage"]
    listener.close()
    assert sum(job_id.encode() in data for data in published) >= 7  # created ... completed


def _event_names(lines: Iterator[str]) -> list[str]:
    """SSE event names until the (only) job of the workspace ends."""
    names: list[str] = []
    for line in lines:
        if line.startswith("event: "):
            names.append(line.removeprefix("event: "))
        if names and names[-1] in ("workflow_completed", "workflow_failed"):
            break
    return names
