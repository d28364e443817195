"""Prometheus metrics with prometheus_client in multiprocess mode: every process of a host (API
processes, workers, the reaper) writes its counters and histograms to files in one directory,
and a scrape of any API process reads them all.

Recorded where they happen: step attempt durations per workflow and step (the worker that
records the outcome), reaper recoveries (the reaper), API request latency (the API's
middleware). Read at scrape time instead (from PostgreSQL and Redis, by `ops.metrics`): jobs by
status, running attempts, queue depth, live workers.

The directory: PROMETHEUS_MULTIPROC_DIR when set, else JOBMONITOR_METRICS_DIR, else
`<JOBMONITOR_DATA_DIR>/metrics`. Files of processes that ended stay, so counters survive
restarts; clear the directory when every process of the host is stopped.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, values
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from backend.settings import get_settings

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def metrics_dir() -> Path:
    """The host's shared directory (created), also exported to child processes."""
    settings = get_settings()
    configured = os.environ.get(MULTIPROC_ENV) or settings.metrics_dir
    path = Path(configured or Path(settings.data_dir) / "metrics").resolve()
    path.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def _process_identifier() -> str:
    """Names this process's files: host and pid, so that containers sharing the directory
    (whose pids repeat) never write to each other's files."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class _Metrics:
    directory: Path | None  # None: the directory is unusable, this process counts alone
    step_duration: Histogram
    reaper_recoveries: Counter
    request_duration: Histogram


@cache
def _metrics() -> _Metrics:
    """Created on first use, in multiprocess mode whatever imported prometheus_client first
    (it picks its value class at import from the environment; this sets it explicitly)."""
    try:
        directory: Path | None = metrics_dir()
        values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)
    except OSError as exc:  # metrics must never stop a request or a step
        log.warning("metrics: no shared directory (%s); this process counts alone", exc)
        directory = None
    return _Metrics(
        directory=directory,
        step_duration=Histogram(
            "jobmonitor_step_duration_seconds",
            "Duration of step attempts as their workers saw them, by outcome.",
            ["workspace", "workflow", "step", "status"],
            buckets=BUCKETS,
        ),
        reaper_recoveries=Counter(
            "jobmonitor_reaper_recoveries",
            "What the reaper recovered: lost attempts, re-enqueued messages, started retries.",
            ["kind"],
        ),
        request_duration=Histogram(
            "jobmonitor_api_request_duration_seconds",
            "API request latency, by route template, method and status.",
            ["method", "route", "status"],
            buckets=REQUEST_BUCKETS,
        ),
    )


def observe_step(workspace: str, workflow: str, step: str, status: str, seconds: float) -> None:
    _metrics().step_duration.labels(workspace, workflow, step, status).observe(seconds)


def count_recoveries(lost: int, requeued: int, retried: int) -> None:
    counter = _metrics().reaper_recoveries
    for kind, n in (("lost", lost), ("requeued", requeued), ("retried", retried)):
        if n:
            counter.labels(kind).inc(n)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    _metrics().request_duration.labels(method, route, str(status)).observe(seconds)


class _Scoped(Collector):
    """Every process's recorded metrics; with `workspaces`, series labelled with another
    workspace are left out (a workspace token sees its own and the instance-wide ones)."""

    def __init__(self, workspaces: set[str] | None) -> None:
        self.workspaces = workspaces
        directory = _metrics().directory
        self.source: Collector = (
            MultiProcessCollector(None, path=str(directory)) if directory else REGISTRY
        )

    def collect(self) -> Iterator[Metric]:
        for family in self.source.collect():
            if self.workspaces is not None:
                family.samples = [
                    s
                    for s in family.samples
                    if s.labels.get("workspace") in (None, *self.workspaces)
                ]
            yield family


class _Snapshot(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def registry(workspaces: set[str] | None, snapshot: Iterable[Metric]) -> CollectorRegistry:
    """What one scrape shows: the recorded metrics (scoped) and the values read just now."""
    result = CollectorRegistry(auto_describe=False)
    result.register(_Scoped(workspaces))
    result.register(_Snapshot(snapshot))
    return result


def gauge(
    name: str, documentation: str, labels: list[str], rows: Iterable[tuple[Any, ...]]
) -> Metric:
    """A gauge family from (label values..., value) rows."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for *label_values, value in rows:
        family.add_metric([str(v) for v in label_values], value)
    return family
