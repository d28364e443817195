"""The registry of step functions and snapshot functions, and the context a step receives.

Users write step functions in their own modules, listed in `JOBMONITOR_STEP_MODULES`:

    from backend.steps import StepContext, step

    @step("reports.count_rows")
    def count_rows(ctx: StepContext) -> dict:
        rows = load(ctx.input["path"])
        ctx.log(f"read {len(rows)} rows")
        ctx.metric("rows", len(rows), "rows")
        return {"rows": len(rows)}

The return value (JSON) is the step's output. The worker provides the concrete context.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol


class StepContext(Protocol):
    """What a step function can read and report. See workers/context.py for the runtime."""

    job_id: str
    step_key: str
    attempt: int  # 1 for the first try
    input: dict[str, Any]  # the job's input payload
    params: dict[str, Any]  # the step's params from the definition
    upstream: dict[str, Any]  # output of each direct dependency, by step key
    mode: str  # the run's mode: global_batch (everything pending) or single_item
    item_id: str | None  # the one item a single_item run processes
    payload: Any  # a manual step's execute payload, a gate's review; None for other steps

    def log(self, message: str, level: str = "info") -> None: ...
    def progress(self, fraction: float) -> None: ...
    def cost(
        self,
        amount_usd: float | None = None,
        *,
        provider: str | None = None,
        model: str | None = None,
        tokens_in: int = 0,
        tokens_out: int = 0,
        kind: str | None = None,
    ) -> None: ...
    def metric(self, name: str, value: float, unit: str | None = None) -> None: ...
    def heartbeat(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...


StepFunction = Callable[[StepContext], Any]
SnapshotFunction = Callable[[], dict[str, Any]]
# the pending-work estimate: counts per stage of what a run with this input would process
ExpectedWorkFunction = Callable[[dict[str, Any]], dict[str, Any]]


class Registry:
    def __init__(self) -> None:
        self.steps: dict[str, StepFunction] = {}
        self.snapshots: dict[str, SnapshotFunction] = {}
        self.expected_work: dict[str, ExpectedWorkFunction] = {}

    def step(self, name: str) -> Callable[[StepFunction], StepFunction]:
        def register(fn: StepFunction) -> StepFunction:
            _check_free(self.steps, name, fn)
            self.steps[name] = fn
            return fn

        return register

    def snapshot(self, name: str) -> Callable[[SnapshotFunction], SnapshotFunction]:
        def register(fn: SnapshotFunction) -> SnapshotFunction:
            _check_free(self.snapshots, name, fn)
            self.snapshots[name] = fn
            return fn

        return register

    def expected(self, name: str) -> Callable[[ExpectedWorkFunction], ExpectedWorkFunction]:
        def register(fn: ExpectedWorkFunction) -> ExpectedWorkFunction:
            _check_free(self.expected_work, name, fn)
            self.expected_work[name] = fn
            return fn

        return register


def _check_free(table: dict[str, Any], name: str, fn: Callable[..., Any]) -> None:
    existing = table.get(name)
    if existing is not None and _qualname(existing) != _qualname(fn):
        raise ValueError(f"{name!r} is already registered by {_qualname(existing)}")


def _qualname(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


REGISTRY = Registry()
step = REGISTRY.step
snapshot = REGISTRY.snapshot
expected_work = REGISTRY.expected


@step("jobmonitor.review")
def review_result(ctx: StepContext) -> Any:
    """A review gate's default action: its output is the submitted review (the items with
    their decisions), which downstream steps read in ctx.upstream."""
    return ctx.payload


def load_step_modules(modules: list[str]) -> None:
    """Import the configured modules so their decorators register their functions."""
    for module in modules:
        importlib.import_module(module)
