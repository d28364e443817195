"""The one exception-to-response table of the API (the classes are in backend/errors.py).

Every error answers `{"error": {"code", "message", "details", "request_id"}}`; the request id
is also in the `X-Request-ID` header (backend.api.middleware adds it to every response). A
user's mistake is a 4xx; the database or Redis being away is a 503 with Retry-After; anything
else is a 500 whose traceback is logged under the request id (the body never carries it).
413 for an oversized body comes from backend.api.middleware.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import psycopg
import psycopg_pool
import redis.exceptions
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend import errors, outages, payload_limits

log = logging.getLogger("jobmonitor.api")

RETRY_AFTER_SECONDS = 5


# most specific class first: the first match wins
STATUS: list[tuple[type[errors.JobmonitorError], int]] = [
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.InvalidInput, 422),
    (errors.Conflict, 409),
    (errors.RateLimited, 429),
    (errors.Unavailable, 503),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "unavailable",
}


def status_of(exc: errors.JobmonitorError) -> int:
    return next((status for cls, status in STATUS if isinstance(exc, cls)), 500)


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def error_body(code: str, message: str, details: Any = None, rid: str = "") -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": jsonable_encoder(details),
            "request_id": rid,
        }
    }


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    rid = request_id(request)
    return JSONResponse(
        error_body(code, message, details, rid), status_code=status, headers=headers
    )


def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.JobmonitorError)
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return error_response(request, status, exc.code, exc.message, exc.details, headers)


def validation_problems(errs: Any) -> list[dict[str, Any]]:
    """FastAPI/pydantic errors as our {"loc", "msg", "type"} list; the "body" prefix is dropped."""
    problems = []
    for e in errs:
        loc = list(e.get("loc", ()))
        if loc and loc[0] == "body":
            loc = loc[1:]
        problems.append({"loc": loc, "msg": e.get("msg", ""), "type": e.get("type", "")})
    return problems


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = validation_problems(exc.errors())
    fields = ", ".join(".".join(str(p) for p in x["loc"]) or "body" for x in problems[:5])
    return error_response(request, 422, "invalid_input", f"invalid request: {fields}", problems)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, RecursionError):  # FastAPI's body parser gave up on nesting
        return _domain(request, payload_limits.body_too_deep())
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    details = None if isinstance(exc.detail, str) else exc.detail
    return error_response(request, exc.status_code, code, message, details, dict(exc.headers or {}))


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The one mapping of a dependency's absence: 503 with Retry-After, logged once per outage."""
    is_redis = isinstance(exc, redis.exceptions.RedisError)
    what = "Redis" if is_redis else "the database"
    (outages.REDIS if is_redis else outages.DATABASE).failed(exc)
    return error_response(
        request,
        503,
        "unavailable",
        f"{what} is unavailable, retry later",
        None,
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """Values PostgreSQL refuses (NUL characters, numbers out of range...) are the caller's."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return error_response(
        request, 422, "invalid_input", f"a value was refused by the database: {message}"
    )


def _integrity(request: Request, exc: Exception) -> JSONResponse:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return error_response(
        request, 409, "conflict", f"the change conflicts with stored data: {message}"
    )


def install(app: FastAPI) -> None:
    """Register the table on `app`."""
    app.add_exception_handler(errors.JobmonitorError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(psycopg.IntegrityError, _integrity)
    app.add_exception_handler(psycopg.OperationalError, _unavailable)
    app.add_exception_handler(psycopg.InterfaceError, _unavailable)
    app.add_exception_handler(psycopg_pool.PoolTimeout, _unavailable)
    app.add_exception_handler(psycopg_pool.PoolClosed, _unavailable)
    app.add_exception_handler(redis.exceptions.ConnectionError, _unavailable)
    app.add_exception_handler(redis.exceptions.TimeoutError, _unavailable)
    # anything else is answered by backend.api.middleware (500 with the request id)
