"""The knobs every example workflow shares: generated data, pacing, planned failures, costs.

Each step of the examples is registered with `example_step(action)`, which fails the attempt
when the job's input asks for it (`fail_step`, `fail_times`), and loops over its data with
`track(ctx, items)`, which reports progress and spreads the job's `delay_seconds` over the
loop (sleeping in slices, heartbeating, stopping when the job is cancelled).
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from backend.steps import StepContext, StepFunction, step

T = TypeVar("T")

DEFAULT_RECORDS = 200
MAX_RECORDS = 100_000
DEFAULT_SEED = 42
DEFAULT_FAIL_TIMES = 1
COMPUTE_USD_PER_RECORD = 0.000002
PAUSE_SLICE = 0.1  # seconds between cancellation checks while pausing
HEARTBEAT_EVERY = 1.0  # seconds between explicit heartbeats while pausing
PROGRESS_TICKS = 20  # progress reports (and delay slices) per tracked loop
CATEGORIES = ("books", "games", "garden", "music", "tools")
REGIONS = ("apac", "eu", "us")
INVALID_RATE = 0.05


class PlannedFailure(RuntimeError):
    """The failure a job asked for with `fail_step` / `fail_times`."""


class StepStopped(RuntimeError):
    """The job was cancelled while the step paused (fallback when heartbeat() does not raise)."""


@dataclass(frozen=True)
class Knobs:
    """The input fields every example workflow accepts (see their input schemas)."""

    records: int = DEFAULT_RECORDS
    seed: int = DEFAULT_SEED
    delay_seconds: float = 0.0
    fail_step: str | None = None
    fail_times: int = DEFAULT_FAIL_TIMES

    @classmethod
    def from_input(cls, payload: Mapping[str, Any]) -> Knobs:
        """The knobs of a job's input, with the schemas' defaults for missing fields."""
        return cls(
            records=min(max(int(payload.get("records", DEFAULT_RECORDS)), 1), MAX_RECORDS),
            seed=int(payload.get("seed", DEFAULT_SEED)),
            delay_seconds=max(float(payload.get("delay_seconds", 0.0)), 0.0),
            fail_step=payload.get("fail_step") or None,
            fail_times=max(int(payload.get("fail_times", DEFAULT_FAIL_TIMES)), 0),
        )

    def fails(self, step_key: str, attempt: int) -> bool:
        """Whether attempt number `attempt` of `step_key` is planned to fail."""
        return self.fail_step == step_key and attempt <= self.fail_times


def example_step(action: str) -> Callable[[StepFunction], StepFunction]:
    """Register a step function that honours the planned-failure knobs before its work."""

    def register(fn: StepFunction) -> StepFunction:
        @functools.wraps(fn)
        def run(ctx: StepContext) -> Any:
            knobs = Knobs.from_input(ctx.input)
            if knobs.fails(ctx.step_key, ctx.attempt):
                ctx.log(f"fail_step={ctx.step_key}: attempt {ctx.attempt} will fail", "warning")
                pause(ctx, knobs.delay_seconds)
                raise PlannedFailure(
                    f"planned failure of step {ctx.step_key!r}, attempt {ctx.attempt} "
                    f"(fail_times={knobs.fail_times})"
                )
            return fn(ctx)

        return step(action)(run)

    return register


def pause(ctx: StepContext, seconds: float) -> None:
    """Sleep in small slices, heartbeating, and stop when the job is cancelled."""
    deadline = time.monotonic() + seconds
    last_beat = time.monotonic()
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, PAUSE_SLICE))
        if time.monotonic() - last_beat >= HEARTBEAT_EVERY:
            ctx.heartbeat()
            last_beat = time.monotonic()
        if ctx.cancelled:
            raise StepStopped("the job was cancelled")


def track(ctx: StepContext, items: Sequence[T]) -> Iterator[T]:
    """Yield `items`, reporting progress and spreading the job's delay_seconds over the loop."""
    delay = Knobs.from_input(ctx.input).delay_seconds
    total = len(items)
    if total == 0:
        pause(ctx, delay)
        ctx.progress(1.0)
        return
    every = -(-total // PROGRESS_TICKS)  # ceiling: at most PROGRESS_TICKS reports
    ticks = -(-total // every)
    for index, item in enumerate(items, start=1):
        yield item
        if index % every == 0 or index == total:
            ctx.progress(index / total)
            if delay:
                pause(ctx, delay / ticks)


def charge_compute(ctx: StepContext, units: int) -> float:
    """Report the compute cost of processing `units` records; returns the amount."""
    amount = round(units * COMPUTE_USD_PER_RECORD, 6)
    if amount > 0:
        ctx.cost(amount, provider="local", kind="compute")
    return amount


def digest(value: Any) -> str:
    """A short, stable checksum of JSON data (key order does not matter)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stable_bucket(key: str, buckets: int) -> int:
    """A bucket for `key` that is the same in every process (unlike hash())."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % buckets


def generate_records(seed: int, count: int) -> list[dict[str, Any]]:
    """`count` order records from `seed`; about 5% are deliberately broken."""
    rng = random.Random(seed)
    customers = max(count // 4, 1)
    records = []
    for i in range(1, count + 1):
        customer = rng.randrange(1, customers + 1)
        record: dict[str, Any] = {
            "id": i,
            "customer": f"c{customer:05d}",
            "category": rng.choice(CATEGORIES),
            "region": rng.choice(REGIONS),
            "quantity": rng.randint(1, 9),
            "amount": round(rng.uniform(1, 500), 2),
            "email": f"Customer{customer}@Example.com",
        }
        if rng.random() < INVALID_RATE:
            _corrupt(record, rng)
        records.append(record)
    return records


def _corrupt(record: dict[str, Any], rng: random.Random) -> None:
    field = rng.choice(("amount", "quantity", "email"))
    record[field] = {"amount": -record["amount"], "quantity": 0, "email": "not-an-email"}[field]


def record_errors(record: Mapping[str, Any]) -> list[str]:
    """What is wrong with one record (empty when it is valid)."""
    errors = []
    if not isinstance(record.get("amount"), int | float) or record["amount"] <= 0:
        errors.append("amount must be positive")
    if not isinstance(record.get("quantity"), int) or record["quantity"] < 1:
        errors.append("quantity must be at least 1")
    if "@" not in str(record.get("email", "")):
        errors.append("email is not an address")
    if record.get("category") not in CATEGORIES:
        errors.append("unknown category")
    return errors


def load_records(ctx: StepContext) -> tuple[Knobs, list[dict[str, Any]]]:
    """The job's knobs and its generated records (the same in every step of the job)."""
    knobs = Knobs.from_input(ctx.input)
    return knobs, generate_records(knobs.seed, knobs.records)


def amount_stats(values: Iterable[float]) -> dict[str, float]:
    """count, sum, min, max and mean of amounts, summed in whole cents so merges are exact."""
    items = list(values)
    if not items:
        return {"count": 0, "sum": 0.0, "min": 0.0, "max": 0.0, "mean": 0.0}
    return _stats(len(items), sum(round(v * 100) for v in items), min(items), max(items))


def merge_stats(parts: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Combine partial amount_stats() results into the stats of the whole."""
    filled = [p for p in parts if p["count"]]
    if not filled:
        return amount_stats([])
    cents = sum(round(p["sum"] * 100) for p in filled)
    count = sum(int(p["count"]) for p in filled)
    return _stats(count, cents, min(p["min"] for p in filled), max(p["max"] for p in filled))


def _stats(count: int, cents: int, low: float, high: float) -> dict[str, float]:
    return {
        "count": count,
        "sum": cents / 100,
        "min": round(low, 2),
        "max": round(high, 2),
        "mean": round(cents / 100 / count, 2),
    }
