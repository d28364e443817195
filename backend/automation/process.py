"""The `jobmonitor scheduler` process: every interval it runs its passes (due schedules, the
feed of ended jobs for triggers, continuous workflows) over one long-lived connection, and
between passes it waits on a second one that LISTENs on the continuous workflows' channels, so
a NOTIFY starts the next pass at once. Several processes may run: every item is claimed in
PostgreSQL (row locks with SKIP LOCKED, unique keys), so each due time fires once.

PostgreSQL and Redis may go away and come back: the process reconnects with capped exponential
backoff and jitter, logging one line per outage; no exception ends it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

import psycopg

from backend.alerts import watch as alerts
from backend.automation import feed
from backend.automation.contain import contained
from backend.budgets.service import thresholds
from backend.continuous import check
from backend.continuous import queries as continuous
from backend.db import connect
from backend.notify.service import send_due
from backend.schedules.fire import fire_due
from backend.settings import get_settings
from backend.triggers.service import on_event as fire_triggers

log = logging.getLogger("jobmonitor.scheduler")
MAX_BACKOFF = 30.0
Pass = Callable[[psycopg.Connection[Any], set[str]], str | None]


def schedules_pass(conn: psycopg.Connection[Any], woken: set[str]) -> str | None:
    report = fire_due(conn, get_settings().schedule_grace_seconds)
    if not (report.started or report.skipped or report.refused):
        return None
    return f"schedules: {len(report.started)} started, {report.skipped} skipped, {report.refused} refused"


def feed_pass(conn: psycopg.Connection[Any], woken: set[str]) -> str | None:
    """Jobs that ended or retried: triggers fire, alert rules match."""
    feed.consume(conn, [fire_triggers, alerts.on_event])
    return None


def alerts_pass(conn: psycopg.Connection[Any], woken: set[str]) -> str | None:
    """Running jobs: too long, slower than usual, stuck."""
    sent = alerts.scan(conn)
    return f"alerts: {sent} queued" if sent else None


def continuous_pass(conn: psycopg.Connection[Any], woken: set[str]) -> str | None:
    started = check.check_due(conn, woken)
    return f"continuous: {started} started" if started else None


def budgets_pass(conn: psycopg.Connection[Any], woken: set[str]) -> str | None:
    """Budgets past their warn threshold or limit alert (budget_threshold rules)."""
    sent = thresholds(conn)
    return f"budgets: {sent} alert(s) queued" if sent else None


def deliveries_pass(conn: psycopg.Connection[Any], woken: set[str]) -> str | None:
    sent = send_due(conn)
    return f"notifications: {sent} attempt(s)" if sent else None


# each pass with the least time between two of its runs (0: every round)
PASSES: list[tuple[Pass, float]] = [
    (schedules_pass, 0.0),
    (feed_pass, 0.0),
    (continuous_pass, 0.0),
    (alerts_pass, 2.0),
    (budgets_pass, 10.0),  # sums a period of step costs per budget
    (deliveries_pass, 0.0),
]


def run(stop: threading.Event, interval: float, once: bool = False) -> None:
    """Run the passes until `stop` is set (or once)."""
    failures = 0
    while not stop.is_set():
        try:
            with connect(autocommit=True) as conn, closing(check.Listener()) as listener:
                if failures:
                    log.warning("scheduler: connected again after %d failed attempt(s)", failures)
                failures = 0
                woken: set[str] = set()
                last_run: dict[str, float] = {}
                while not stop.is_set():
                    run_passes(conn, woken, last_run)
                    if once:
                        return
                    listener.sync(continuous.channels(conn))
                    woken = listener.wait(interval, stop)
        except Exception as exc:  # a dependency's failure never ends the process
            if failures == 0:
                log.warning("scheduler: pass failed, reconnecting with backoff: %s", exc)
            failures += 1
            if once:
                raise
            stop.wait(_backoff(failures))


def run_passes(
    conn: psycopg.Connection[Any], woken: set[str], last_run: dict[str, float] | None = None
) -> None:
    """Each pass that is due, on its own: a bug in one is logged and the others still run;
    a lost connection ends the round (the caller reconnects)."""
    last_run = {} if last_run is None else last_run
    for one_pass, every in PASSES:
        name = one_pass.__name__
        if time.monotonic() - last_run.get(name, -every) < every:
            continue
        last_run[name] = time.monotonic()
        summary = None
        with contained(name):
            summary = one_pass(conn, woken)
        if summary:
            log.info("%s", summary)


def _backoff(failures: int) -> float:
    ceiling = min(MAX_BACKOFF, 0.5 * 2 ** min(failures, 10))
    return random.uniform(ceiling / 2, ceiling)
