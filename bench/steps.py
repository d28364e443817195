"""No-op work for the benchmarks: the same empty function through the engine and plain rq."""

from __future__ import annotations

from backend.steps import StepContext, step


@step("bench.noop")
def engine_noop(ctx: StepContext) -> None:
    return None


def rq_noop() -> None:
    return None
