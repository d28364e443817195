"""Engine harness: register a workflow, create jobs, and run their steps on real rq workers
(SimpleWorker in this process, in burst mode) and the real reaper."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from rq import SimpleWorker

from backend.auth.service import bootstrap_token
from backend.db import connect
from backend.jobs import reaper, service
from backend.jobs.outbox import Outbox
from backend.jobs.states import JOB_TERMINAL
from backend.queue import redis_client, step_queue
from backend.workflows.service import register_workflow
from workers.worker import ResilientQueue
from workers.worker import SimpleWorker as ProductSimpleWorker


class BurstWorker(SimpleWorker):
    """rq's SimpleWorker without its command channel: each burst would otherwise leave a
    pub/sub thread behind that only notices its stop once a minute."""

    def subscribe(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None


class Engine:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        row = conn.execute(
            "INSERT INTO workspaces (id, slug, name) VALUES (%s, %s, %s) RETURNING id",
            (uuid.uuid4(), f"ws-{uuid.uuid4().hex[:6]}", "Test"),
        ).fetchone()
        assert row is not None
        self.workspace_id: uuid.UUID = row["id"]

    def register(self, definition: dict[str, Any]) -> uuid.UUID:
        with self.conn.transaction():
            return register_workflow(self.conn, self.workspace_id, definition).workflow_id

    def act(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a service function in its own transaction and flush its outbox after commit."""
        outbox = Outbox()
        with self.conn.transaction():
            result = fn(self.conn, self.workspace_id, *args, outbox, **kwargs)
        outbox.flush(self.conn)
        return result

    def create(
        self, workflow: str, payload: dict[str, Any] | None = None, **kwargs: Any
    ) -> uuid.UUID:
        created: service.Created = self.act(service.create_job, workflow, payload, **kwargs)
        return created.job_id

    def token(self, role: str, name: str, workspace: str | None = None) -> str:
        """A new API token of `role` for this workspace, or for `workspace` (a slug; created)."""
        slug = workspace or self.slug
        with self.conn.transaction():
            return bootstrap_token(self.conn, slug, role, name)[0]

    @property
    def slug(self) -> str:
        row = self.conn.execute(
            "SELECT slug FROM workspaces WHERE id = %s", (self.workspace_id,)
        ).fetchone()
        assert row is not None
        return str(row["slug"])

    def work(self) -> None:
        """Run every queued message once (burst), in this process, on the main thread."""
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            BurstWorker(
                [step_queue()], connection=redis_client(), serializer=step_queue().serializer
            ).work(burst=True, logging_level="WARNING")
        finally:  # rq installs its own handlers; give pytest (and `timeout`) theirs back
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def spawn_worker(self, simple: bool = True, burst: bool = True) -> subprocess.Popen[bytes]:
        """A real worker process (`jobmonitor worker`) with this test's environment."""
        argv = [sys.executable, "-m", "cli.main", "worker"]
        argv += ["--simple"] if simple else []
        argv += ["--burst"] if burst else []
        return subprocess.Popen(argv, env=dict(os.environ), start_new_session=True)

    @contextmanager
    def running_worker(self, simple: bool) -> Iterator[subprocess.Popen[bytes]]:
        """A worker process (not in burst mode), killed on the way out if still running."""
        worker = self.spawn_worker(simple=simple, burst=False)
        try:
            yield worker
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()

    def drain(self, job_id: uuid.UUID, timeout: float = 30.0) -> dict[str, Any]:
        """Work and reap until the job is terminal."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.work()
            job = self.job(job_id)
            if job["status"] in JOB_TERMINAL:
                return job
            reaper.reap(self.conn, queued_grace_seconds=1.0)
            time.sleep(0.05)
        raise AssertionError(
            f"job {job_id} did not finish in {timeout}s: {self.job(job_id)['status']}"
        )

    def job(self, job_id: uuid.UUID) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM jobs WHERE id = %s", (job_id,)).fetchone()
        assert row is not None
        return row

    def steps(self, job_id: uuid.UUID) -> dict[str, dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT * FROM job_steps WHERE job_id = %s ORDER BY step_index", (job_id,)
        )
        return {r["step_key"]: r for r in rows}

    def attempts(self, job_id: uuid.UUID, step_key: str | None = None) -> list[dict[str, Any]]:
        return self.conn.execute(
            """
            SELECT * FROM step_attempts WHERE job_id = %s AND (%s::text IS NULL OR step_key = %s)
            ORDER BY started_at NULLS LAST, attempt_number
            """,
            (job_id, step_key, step_key),
        ).fetchall()

    def events(self, job_id: uuid.UUID) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT * FROM job_events WHERE job_id = %s ORDER BY id", (job_id,)
        ).fetchall()


@pytest.fixture
def engine(env: dict[str, str]) -> Iterator[Engine]:
    with connect(autocommit=True) as conn:
        yield Engine(conn)


def chain(name: str, *keys: str, action: str = "test.echo", **step_extra: Any) -> dict[str, Any]:
    """A linear workflow definition."""
    steps = []
    for i, key in enumerate(keys):
        steps.append(
            {"key": key, "action": action, "depends_on": [keys[i - 1]] if i else [], **step_extra}
        )
    return {"name": name, "steps": steps}


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll `condition` until it returns something true (that value), or fail after
    `timeout` seconds: a generous deadline instead of a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or condition}")


class ContinuingBurstWorker(ProductSimpleWorker):
    """The product's SimpleWorker (which continues), in this process, without rq's command
    channel (as the harness's BurstWorker)."""

    def subscribe(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None


def work_continuing() -> None:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        plain = step_queue()
        queue = ResilientQueue(plain.name, connection=plain.connection, serializer=plain.serializer)
        ContinuingBurstWorker([queue], connection=redis_client(), serializer=queue.serializer).work(
            burst=True, logging_level="WARNING"
        )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
