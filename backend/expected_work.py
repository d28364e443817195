"""The registry of `expected_work` functions: how a continuous workflow learns that there is
work for it. A function takes no arguments and returns counts of pending work (a dict of
numbers, like `{"pending_summary": 555, "pending_skills": 57}`), a number, or a bool; any
positive count means "start a job".

    from backend.expected_work import expected_work

    @expected_work("postings.pending")
    def pending() -> dict[str, int]:
        return {"pending_summary": count_unsummarised()}

(A minimal registry of its own: the runner's `expected_work` registration lands separately.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ExpectedWork = Callable[[], Any]
EXPECTED_WORK: dict[str, ExpectedWork] = {}


def expected_work(name: str) -> Callable[[ExpectedWork], ExpectedWork]:
    def register(fn: ExpectedWork) -> ExpectedWork:
        existing = EXPECTED_WORK.get(name)
        if existing is not None and existing.__qualname__ != fn.__qualname__:
            raise ValueError(f"expected_work {name!r} is already registered")
        EXPECTED_WORK[name] = fn
        return fn

    return register


def has_work(result: Any) -> bool:
    """Whether a function's answer reports pending work."""
    if isinstance(result, bool):
        return result
    if isinstance(result, int | float):
        return result > 0
    if isinstance(result, dict):
        return any(has_work(v) for v in result.values() if isinstance(v, int | float | bool))
    return False
