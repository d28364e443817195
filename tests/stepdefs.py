"""Step functions used by the engine tests (registered as `test.*`)."""

from __future__ import annotations

import contextlib
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


# --- steps that fail in ways a step's code can (tests/integration/test_step_failures.py) ---


@step("test.nan_output")
def nan_output(ctx: StepContext) -> dict[str, Any]:
    return {"n": 3, "stats": {"mean": float("nan"), "max": 1.5}}


@step("test.infinity_output")
def infinity_output(ctx: StepContext) -> dict[str, Any]:
    return {"values": [1.0, float("-inf")]}


@step("test.nul_output")
def nul_output(ctx: StepContext) -> dict[str, Any]:
    ctx.log("a log line with a NUL \x00 in it")
    return {"rows": [{"name": "a\x00b"}]}


@step("test.huge_output")
def huge_output(ctx: StepContext) -> str:
    return "x" * int(ctx.params.get("bytes", 2000))


@step("test.system_exit")
def system_exit(ctx: StepContext) -> None:
    raise SystemExit(3)


@step("test.keyboard_interrupt")
def keyboard_interrupt(ctx: StepContext) -> None:
    raise KeyboardInterrupt


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() of this exception raises")

    def __repr__(self) -> str:
        raise RuntimeError("repr() of this exception raises")


@step("test.unprintable_error")
def unprintable_error(ctx: StepContext) -> None:
    raise Unprintable()


# --- steps that defy the limits (tests/integration/test_hard_limits.py) -------------------


def _marker(ctx: StepContext) -> None:
    marker = ctx.input.get("marker_dir")
    if marker:
        name = f"{ctx.step_key}.{ctx.attempt}.{os.getpid()}.{time.monotonic_ns()}"
        with open(os.path.join(marker, name), "w") as f:
            f.write(str(os.getpid()))


@step("test.swallow_interrupts")
def swallow_interrupts(ctx: StepContext) -> dict[str, Any]:
    """Runs params.seconds whatever is raised into it (timeouts, cancellation)."""
    _marker(ctx)
    end = time.monotonic() + float(ctx.params.get("seconds", 60))
    while time.monotonic() < end:
        with contextlib.suppress(BaseException):  # the point of this step
            time.sleep(0.05)
    return {"finished": True}


@step("test.hold_gil")
def hold_gil(ctx: StepContext) -> dict[str, Any]:
    """Holds the GIL about params.seconds in one C call (a backtracking regex): no other
    thread of this process runs meanwhile."""
    import math
    import re

    _marker(ctx)
    pattern = re.compile(r"(x+x+)+y")
    started = time.monotonic()
    pattern.match("x" * 20)
    unit = max(time.monotonic() - started, 1e-4)  # each further x doubles the time
    n = 20 + max(0, math.ceil(math.log2(float(ctx.params.get("seconds", 6)) / unit)))
    started = time.monotonic()
    pattern.match("x" * n)
    return {"held_seconds": round(time.monotonic() - started, 2)}
