"""The error responses routes document in OpenAPI, written once. `backend.api.app` points
every 4xx/5xx of them at the one error body."""

from __future__ import annotations

from typing import Any

Responses = dict[int | str, dict[str, Any]]

UNAUTHENTICATED = "Missing, invalid or revoked token"
FORBIDDEN = "The token's role is too low"


def errors(
    *,
    not_found: str | None = None,
    conflict: str | None = None,
    invalid: str | None = None,
    limited: str | None = None,
) -> Responses:
    """401 and 403 (every route authenticates), plus the statuses a route describes."""
    described = {404: not_found, 409: conflict, 422: invalid, 429: limited}
    responses: Responses = {
        401: {"description": UNAUTHENTICATED},
        403: {"description": FORBIDDEN},
    }
    responses.update({code: {"description": text} for code, text in described.items() if text})
    return responses
