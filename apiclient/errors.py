"""The errors of a call to the REST API: one typed exception per kind of refusal, whichever
client made the call.

    ApiError
    ├── Unauthorized      401  missing, unknown or revoked token
    ├── Forbidden         403  the token's role does not allow it
    ├── NotFound          404
    ├── Conflict          409  the status does not allow the action, idempotency conflict...
    ├── ValidationFailed  422  .details: [{"loc": [...], "msg": ...}]
    ├── RateLimited       429
    └── Unavailable       the API could not be reached, or answered 5xx
        └── Unreachable   no HTTP answer at all: refused, DNS, timeout, TLS
"""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    status = 0

    def __init__(
        self, message: str, *, code: str = "error", details: Any = None, status: int = 0
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details
        self.status = status or type(self).status


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class ValidationFailed(ApiError):
    status = 422


class RateLimited(ApiError):
    status = 429


class Unavailable(ApiError):
    status = 503


class Unreachable(Unavailable):
    """No HTTP answer at all. (An answer with 5xx is Unavailable.)"""


_BY_STATUS: dict[int, type[ApiError]] = {
    cls.status: cls
    for cls in (Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed, RateLimited)
}


def error_from_response(status: int, body: bytes) -> ApiError:
    """Map an error response (`{"error": {"code", "message", "details"}}`) to its class."""
    try:
        error = json.loads(body).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    message = str(error.get("message") or f"HTTP {status}")
    cls = _BY_STATUS.get(status, Unavailable if status >= 500 else ApiError)
    return cls(
        message, code=str(error.get("code") or "error"), details=error.get("details"), status=status
    )
