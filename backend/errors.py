"""Typed errors of the domain. The API maps each class to one HTTP status in one table.

JobmonitorError
├── Unauthenticated          401  missing, malformed, unknown or revoked token
├── Forbidden                403  the token's role is too low
├── NotFound                 404  (also: another workspace's object)
├── InvalidInput             422  details: [{"loc": [...], "msg": ...}]
│   └── InvalidDefinition    422  every problem of a workflow definition with its path
├── Conflict                 409
│   ├── InvalidTransition    409  the status does not allow the action
│   └── IdempotencyConflict  409  same key, another payload
├── ConcurrencyLimited       409  max concurrent jobs reached
├── RateLimited              429  min seconds between starts not elapsed (retry_after)
│   └── BudgetExhausted      429  a blocking cost budget is spent (retry_after: its reset)
└── Unavailable              503  database or Redis unreachable
"""

from __future__ import annotations

from typing import Any


class JobmonitorError(Exception):
    code = "error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthenticated(JobmonitorError):
    code = "unauthenticated"


class Forbidden(JobmonitorError):
    code = "forbidden"


class NotFound(JobmonitorError):
    code = "not_found"


class InvalidInput(JobmonitorError):
    code = "invalid_input"


class InvalidDefinition(InvalidInput):
    code = "invalid_definition"


class Conflict(JobmonitorError):
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class ConcurrencyLimited(Conflict):
    code = "concurrency_limited"


class RateLimited(JobmonitorError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float, details: Any = None) -> None:
        super().__init__(message, details)
        self.retry_after = retry_after


class BudgetExhausted(RateLimited):
    code = "budget_exhausted"


class Unavailable(JobmonitorError):
    code = "unavailable"
