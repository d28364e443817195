"""Step functions used by the engine tests (registered as `test.*`)."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from backend.steps import StepContext, snapshot, step


@step("test.noop")
def noop(ctx: StepContext) -> dict[str, Any]:
    return {"step": ctx.step_key}


@step("test.echo")
def echo(ctx: StepContext) -> dict[str, Any]:
    """Returns what it saw, so tests can check inputs, params and upstream outputs."""
    ctx.log(f"echo {ctx.step_key} attempt {ctx.attempt}")
    ctx.metric("upstream_count", len(ctx.upstream), "steps")
    ctx.cost(0.25, provider="test", model="m", tokens_in=10, tokens_out=5)
    print(f"stdout line from {ctx.step_key}")
    return {
        "step": ctx.step_key,
        "params": ctx.params,
        "upstream": sorted(ctx.upstream),
        "attempt": ctx.attempt,
    }


@step("test.flaky")
def flaky(ctx: StepContext) -> dict[str, Any]:
    """Fails while attempt <= params.fail_times (or input.fail_times)."""
    fail_times = int(ctx.params.get("fail_times", ctx.input.get("fail_times", 0)))
    if ctx.attempt <= fail_times:
        raise RuntimeError(f"planned failure {ctx.attempt}/{fail_times}")
    return {"attempt": ctx.attempt}


@step("test.sleep")
def sleep(ctx: StepContext) -> dict[str, Any]:
    seconds = float(ctx.params.get("seconds", ctx.input.get("sleep", 1.0)))
    marker = ctx.input.get("marker_dir")
    if marker:
        with open(os.path.join(marker, f"{ctx.step_key}.{ctx.attempt}.{os.getpid()}"), "w") as f:
            f.write(str(os.getpid()))
    ctx.log(f"sleeping {seconds}s")
    time.sleep(seconds)
    return {"slept": seconds, "attempt": ctx.attempt}


@step("test.sleep_first_attempt")
def sleep_first_attempt(ctx: StepContext) -> dict[str, Any]:
    """Sleeps long on attempt 1 (to be killed), returns fast afterwards."""
    marker = ctx.input.get("marker_dir")
    if marker:
        with open(os.path.join(marker, f"{ctx.step_key}.{ctx.attempt}.{os.getpid()}"), "w") as f:
            f.write(str(os.getpid()))
    if ctx.attempt == 1:
        time.sleep(float(ctx.input.get("sleep", 30)))
    return {"attempt": ctx.attempt}


@step("test.bad_output")
def bad_output(ctx: StepContext) -> Any:
    return {"not json": object()}


COUNTER = {"items": 0}


@snapshot("test.counter")
def counter_state() -> dict[str, Any]:
    return {"items": COUNTER["items"], "label": "in-process counter"}


@step("test.add_items")
def add_items(ctx: StepContext) -> dict[str, Any]:
    COUNTER["items"] += int(ctx.params.get("n", 1))
    return {"items": COUNTER["items"]}


@step("test.costly")
def costly(ctx: StepContext) -> dict[str, Any]:
    """Reports params.usd as its cost, and fails while attempt <= params.fail_times."""
    ctx.cost(float(ctx.params["usd"]), provider="test")
    if ctx.attempt <= int(ctx.params.get("fail_times", 0)):
        raise RuntimeError(f"planned failure {ctx.attempt}")
    return {"attempt": ctx.attempt}


@step("test.warn")
def warn(ctx: StepContext) -> dict[str, Any]:
    """Logs a warning through Python's logging (the worker's own log shows it too)."""
    logging.getLogger("tests.steps").warning("careful with %s", ctx.step_key)
    return {"warned": True}
