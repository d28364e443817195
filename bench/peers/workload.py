"""The workloads of bench/peers.py and the loop that drives one system's adapter through them.

Standard library only: every peer's adapter imports this file inside its own virtualenv, and
Jobmonitor's adapter (in bench/peers.py) imports it from the project's. An adapter is any
object with two methods, both talking to the system's own durable (or not) record:

    submit(shape) -> run_id           start one run of a workflow shape; returns its id (str)
    completed(run_ids) -> {id: steps} the runs among run_ids that are done, each with the
                                      number of its steps the system records as completed

and optionally `extra(run_ids) -> dict` (figures only that system can give, e.g. Jobmonitor's
parent->child latency). `serve(adapter)` speaks the session protocol with bench/peers.py over
stdin/stdout, one JSON object per line: it warms up, prints {"ready": true}, then runs each
command it reads ({"workload": "W1", "runs": 100}) and prints its result, until stdin closes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

# shape -> steps per run. chain10 and chain3: s0 -> s1 -> ...; fan8: s0 -> (s1..s8) -> s9.
SHAPES = {"chain10": 10, "fan8": 10, "chain3": 3}
FAN_WIDTH = 8
# workload -> (shape, one at a time?)
WORKLOADS = {"W1": ("chain10", False), "W2": ("fan8", False), "W3": ("chain3", True)}
THROUGHPUT_POLL = 0.02  # seconds between completion checks while a batch runs
LATENCY_POLL = 0.002  # seconds between completion checks of a single run
TIMEOUT = 600.0  # a workload that has not finished by then is reported as failed
VERIFY_GRACE = 15.0  # records written asynchronously (Prefect's task runs) may lag the run
# The application_name of the connections that only check completion: bench/peers.py leaves
# their backends out of the system's PostgreSQL CPU (they are the harness's, not the system's).
POLL_APP = "bench-poll"


class Adapter(Protocol):
    def submit(self, shape: str) -> str: ...

    def completed(self, run_ids: list[str]) -> dict[str, int]: ...


def successors(shape: str, index: int) -> list[int]:
    """The steps a step starts when it finishes (fan8's middle steps go through fan_in)."""
    last = SHAPES[shape] - 1
    if shape == "fan8":
        return list(range(1, FAN_WIDTH + 1)) if index == 0 else []
    return [index + 1] if index < last else []


def fan_in(shape: str, index: int) -> int | None:
    """The step a middle fan8 step counts towards (the last one), else None."""
    return SHAPES[shape] - 1 if shape == "fan8" and 1 <= index <= FAN_WIDTH else None


def step_ids(run_id: str, shape: str) -> list[str]:
    """Per-step ids for systems that name each message (rq jobs, Celery tasks)."""
    return [f"{run_id}-{i}" for i in range(SHAPES[shape])]


def run_batch(adapter: Adapter, shape: str, runs: int) -> dict[str, Any]:
    """Submit `runs` runs at once and wait for all of them: the window is from the first
    submit to the check that sees the last run done."""
    start = time.monotonic()
    ids = [adapter.submit(shape) for _ in range(runs)]
    pending = _wait(adapter, ids, start, THROUGHPUT_POLL)
    window = time.monotonic() - start
    return _result(adapter, shape, ids, window, [], pending)


def run_one_by_one(adapter: Adapter, shape: str, runs: int) -> dict[str, Any]:
    """Submit one run, wait until it is done, repeat: submit->done latency per run."""
    ids, latencies, pending = [], [], []
    start = time.monotonic()
    for _ in range(runs):
        t0 = time.monotonic()
        run_id = adapter.submit(shape)
        ids.append(run_id)
        pending = _wait(adapter, [run_id], t0, LATENCY_POLL)
        if pending:
            break
        latencies.append((time.monotonic() - t0) * 1000)
    result = _result(adapter, shape, ids, time.monotonic() - start, latencies, pending)
    result["runs"] = runs
    result["steps_expected"] = runs * SHAPES[shape]
    if not pending and hasattr(adapter, "extra"):
        result["extra"] = adapter.extra(ids)
    return result


def _wait(adapter: Adapter, ids: list[str], start: float, poll: float) -> list[str]:
    """Poll until every run is done; returns the runs still pending at the timeout."""
    pending = list(ids)
    while pending and time.monotonic() - start < TIMEOUT:
        done = adapter.completed(pending)
        pending = [i for i in pending if i not in done]
        if pending:
            time.sleep(poll)
    return pending


def _result(
    adapter: Adapter,
    shape: str,
    ids: list[str],
    window: float,
    latencies: list[float],
    pending: list[str],
) -> dict[str, Any]:
    """Count every step in the system's own record (after the window) before calling it ok."""
    expected = len(ids) * SHAPES[shape]
    completed = 0
    deadline = time.monotonic() + VERIFY_GRACE
    while not pending:
        completed = sum(adapter.completed(ids).values())
        if completed >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    ok = not pending and completed == expected
    return {
        "ok": ok,
        "runs": len(ids),
        "window_s": window,
        "steps_expected": expected,
        "steps_completed": completed,
        "runs_not_done": len(pending),
        "latencies_ms": latencies,
    }


def run_workload(adapter: Adapter, workload: str, runs: int) -> dict[str, Any]:
    shape, one_by_one = WORKLOADS[workload]
    return (run_one_by_one if one_by_one else run_batch)(adapter, shape, runs)


def serve(make_adapter: Callable[[], Adapter], warmup_runs: int = 4) -> None:
    """The session protocol (see the module docstring). Stdout is kept for the protocol
    (whatever a library prints goes to stderr). The warm-up runs prove that workers consume,
    and pay each system's first-use costs outside the measured windows."""
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        adapter = make_adapter()
        warm = run_one_by_one(adapter, "chain3", warmup_runs)
    except Exception as exc:
        _say(out, {"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        raise
    _say(out, {"ready": warm["ok"], "warmup": warm})
    for line in sys.stdin:
        command = json.loads(line)
        try:
            _say(out, run_workload(adapter, command["workload"], int(command["runs"])))
        except Exception as exc:  # reported as a failed round, never counted
            _say(out, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})


def main(
    make_adapter: Callable[[], Adapter],
    worker: Callable[[list[str]], None],
    setup: Callable[[], None] = lambda: None,
) -> None:
    """A peer's entry point: `adapter.py setup | worker [options] | session`."""
    command, *rest = sys.argv[1:] or ["session"]
    if command == "setup":
        setup()
    elif command == "worker":
        worker(rest)
    else:
        serve(make_adapter)


def _say(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()
