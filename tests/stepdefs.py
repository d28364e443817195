"""Step functions used by the engine tests (registered as `test.*`)."""

from __future__ import annotations

import contextlib
import json
import logging
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


@step("test.slow_flaky")
def slow_flaky(ctx: StepContext) -> dict[str, Any]:
    """Works `params.seconds` (default 0.5), then fails while attempt <= params.fail_times: a
    retried step whose attempts and backoff gaps are long enough to see on a Gantt."""
    time.sleep(float(ctx.params.get("seconds", 0.5)))
    if ctx.attempt <= int(ctx.params.get("fail_times", 0)):
        raise RuntimeError(f"planned failure {ctx.attempt}/{ctx.params.get('fail_times')}")
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


# Every secret shape the issue 10 audit planted: (as written, the part that must never show).
PLANTED_SECRETS: dict[str, tuple[str, str]] = {
    "json": ('{"password": "pw-json-31337", "user": "bob"}', "pw-json-31337"),
    "pem": (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bqPEMBODYx0\nQ2lmVjZPEMTAIL9\n"
        "-----END RSA PRIVATE KEY-----",
        "PEMBODYx0",
    ),
    "x_api_key": ("X-Api-Key: xak5f9c2e7d1b3a9", "xak5f9c2e7d1b3a9"),
    "openai": ("sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123", "AbCdEfGhIjKlMnOpQrStUvWx0123"),
    "aws": ("AKIAZ3MPLEK3YZ7QWERT", "Z3MPLEK3YZ7QWERT"),
    "github": ("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
    "jwt": (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqbS10ZXN0In0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    "pair": ("password=plainpass-77", "plainpass-77"),
    "bearer": ("Authorization: Bearer bearer-tok-12345678", "bearer-tok-12345678"),
    "url": ("postgresql://app:dbpass-9@db.internal/prod", "dbpass-9"),
}


@step("test.leaky")
def leaky(ctx: StepContext) -> dict[str, Any]:
    """Leaks every planted secret into its log lines (ctx.log and print), its error message and
    its traceback; with input.succeed it returns them as output instead."""
    for name, (text, _) in PLANTED_SECRETS.items():
        ctx.log(f"{name}: {text}")
    print(f"stdout: {PLANTED_SECRETS['aws'][0]} {PLANTED_SECRETS['json'][0]}")
    if ctx.input.get("succeed"):
        return {"found": [text for text, _ in PLANTED_SECRETS.values()], "api_key": "ak-out-1"}
    raise RuntimeError("leaked: " + " | ".join(text for text, _ in PLANTED_SECRETS.values()))


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


@step("test.payload")
def payload(ctx: StepContext) -> dict[str, Any]:
    """Returns the payload a person executed it with (manual steps)."""
    return {"payload": ctx.payload, "attempt": ctx.attempt}


@step("test.items")
def items(ctx: StepContext) -> dict[str, Any]:
    """Items to review: input.items of them (default 4), ids i1.., each with a label."""
    count = int(ctx.input.get("items", 4))
    return {
        "items": [{"id": f"i{n}", "label": f"item {n}", "score": n} for n in range(1, count + 1)]
    }


@step("test.upstream")
def upstream(ctx: StepContext) -> dict[str, Any]:
    """Returns its upstream outputs whole (what a step after a gate receives); fails while
    attempt <= input.fail_after_gate."""
    if ctx.attempt <= int(ctx.input.get("fail_after_gate", 0)):
        raise RuntimeError(f"planned failure {ctx.attempt}")
    return {"upstream": ctx.upstream}


@step("test.scale")
def scale(ctx: StepContext) -> dict[str, Any]:
    """An output that depends on the input: input.n times params.factor."""
    return {"n": int(ctx.input.get("n", 1)) * int(ctx.params.get("factor", 1))}


@step("test.emit")
def emit(ctx: StepContext) -> dict[str, Any]:
    """Returns its params as its output (what chains map from)."""
    return dict(ctx.params)


@expected_work("test.pending_rows")
def pending_rows(payload: dict[str, Any]) -> dict[str, int]:
    """Rows of the test's own work table not yet done (the table is the test's)."""
    from backend.db import connect

    with connect() as conn:
        row = conn.execute("SELECT count(*) AS n FROM test_work_items WHERE NOT done").fetchone()
    return {"pending_rows": int(row["n"]) if row else 0}


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


@step("test.warn")
def warn(ctx: StepContext) -> dict[str, Any]:
    """Logs a warning through Python's logging (the worker's own log shows it too)."""
    logging.getLogger("tests.steps").warning("careful with %s", ctx.step_key)
    return {"warned": True}


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
    seconds = float(ctx.params.get("seconds", 6))
    n = 20 + max(0, math.ceil(math.log2(seconds / unit)))
    while True:  # on a loaded machine the estimate may fall short: one x more doubles it
        started = time.monotonic()
        pattern.match("x" * n)
        held = time.monotonic() - started
        if held >= seconds * 0.75:
            return {"held_seconds": round(held, 2)}
        n += 1


# --- steps the web monitor's step panel is tested with (tests/e2e/test_step_panel.py) -----


@step("test.retry_story")
def retry_story(ctx: StepContext) -> dict[str, Any]:
    """Logs one line per level naming its attempt, runs params.seconds, and fails while
    attempt <= params.fail_times with "attempt N failed: <params.reason>"."""
    n = ctx.attempt
    ctx.log(f"attempt {n}: connecting", level="debug")
    ctx.log(f"attempt {n}: fetched 20 rows")
    ctx.log(f"attempt {n}: slow source", level="warning")
    time.sleep(float(ctx.params.get("seconds", 0)))
    if n <= int(ctx.params.get("fail_times", 0)):
        reason = str(ctx.params.get("reason", "source unavailable"))
        ctx.log(f"attempt {n} failed: {reason}", level="error")
        raise RuntimeError(f"attempt {n} failed: {reason}")
    return {"attempt": n, "rows": 20}


@step("test.chatty")
def chatty(ctx: StepContext) -> dict[str, Any]:
    """Logs "line N" every params.every seconds for params.seconds."""
    every, end, n = float(ctx.params.get("every", 0.2)), float(ctx.params.get("seconds", 10)), 0
    started = time.monotonic()
    while time.monotonic() - started < end:
        n += 1
        ctx.log(f"line {n}")
        time.sleep(every)
    return {"lines": n}
