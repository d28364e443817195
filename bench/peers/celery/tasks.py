"""Celery 5.7 with Redis as broker and result backend: one no-op task per step; the shapes are
Celery canvases (a chain; a chain into a chord), so Celery itself schedules the next step."""

from __future__ import annotations

import os

from celery import Celery

REDIS = os.environ["BENCH_REDIS_URL"]
app = Celery("bench", broker=REDIS, backend=REDIS)
app.conf.update(worker_hijack_root_logger=False, broker_connection_retry_on_startup=True)


@app.task(name="bench.noop")
def noop() -> None:
    return None
