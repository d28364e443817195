"""Step functions used by the engine tests (registered as `test.*`)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from backend.steps import StepContext, expected_work, snapshot, step


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


# --- a work queue shared by processes (API, workers): a JSON file under JOBMONITOR_DATA_DIR ---


def items_file() -> str:
    return os.path.join(os.environ.get("JOBMONITOR_DATA_DIR") or ".jobmonitor", "test_items.json")


def read_items() -> dict[str, int]:
    try:
        with open(items_file()) as f:
            return dict(json.load(f))
    except FileNotFoundError:
        return {"pending": 0, "done": 0}


def write_items(items: dict[str, int]) -> None:
    os.makedirs(os.path.dirname(items_file()), exist_ok=True)
    with open(items_file() + ".tmp", "w") as f:
        json.dump(items, f)
    os.replace(items_file() + ".tmp", items_file())


@snapshot("test.items")
def items_state() -> dict[str, Any]:
    items = read_items()
    return {"items_pending": items["pending"], "items_done": items["done"]}


@expected_work("test.items_expected")
def items_expected(payload: dict[str, Any]) -> dict[str, int]:
    if payload.get("broken_estimate"):
        raise RuntimeError("the estimate cannot be made")
    return {"pending_process": read_items()["pending"]}


@step("test.process_items")
def process_items(ctx: StepContext) -> dict[str, Any]:
    """Moves pending items to done: all of them (global_batch), or one (single_item); at most
    params.n or input.n when given. Logs each batch; fails while attempt <= fail_times (params,
    else input)."""
    if ctx.attempt <= int(ctx.params.get("fail_times", ctx.input.get("fail_times", 0))):
        raise RuntimeError(f"planned failure {ctx.attempt}")
    time.sleep(float(ctx.input.get("sleep", 0)))
    items = read_items()
    limit = int(ctx.params.get("n", ctx.input.get("n", items["pending"])))
    n = min(items["pending"], 1 if ctx.mode == "single_item" else limit)
    write_items({"pending": items["pending"] - n, "done": items["done"] + n})
    ctx.log(f"processed {n} item(s) in mode {ctx.mode}, item {ctx.item_id}")
    return {"processed": n, "mode": ctx.mode, "item_id": ctx.item_id}


# a workflow over that queue: the first step takes 2 items, the second the rest and fails its
# first attempt (so a resume has work left); audited by the snapshot and the estimate above
ITEMS_WORKFLOW: dict[str, Any] = {
    "snapshot": "test.items",
    "expected_work": "test.items_expected",
    "steps": [
        {"key": "first", "action": "test.process_items", "params": {"n": 2}},
        {
            "key": "rest",
            "action": "test.process_items",
            "depends_on": ["first"],
            "params": {"fail_times": 1},
            "retry": {"max_attempts": 1, "backoff_seconds": 0},
        },
    ],
}
