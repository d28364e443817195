"""What the two clients share, so the web monitor and the CLI call the API one way: where the
API is, how a request is authenticated and its query trimmed, and how a failed call becomes
one of `apiclient.errors`. `ApiClient` (async, typed) and `SyncClient` (blocking, JSON) only
add their transport and their methods."""

from __future__ import annotations

from typing import Any

import httpx

from apiclient.errors import Unreachable, error_from_response

API_PREFIX = "/api/v1"


def normalize_url(url: str) -> str:
    """The server's base URL without a trailing slash or an /api or /api/v1 suffix."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    for suffix in (API_PREFIX, "/api"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
    return url


def query(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """The query parameters that are set: None and "" mean "no filter" and are left out."""
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None and v != ""}


def check(response: httpx.Response) -> httpx.Response:
    """The response when it is a success; its ApiError otherwise (read the body first)."""
    if response.status_code >= 400:
        raise error_from_response(response.status_code, response.content)
    return response


def stream_headers(last_event_id: int | None) -> dict[str, str]:
    """Headers that open the event stream, resuming after `last_event_id` when given."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    return headers


class Connection:
    """One API server and the token to call it with."""

    user_agent: str | None = None  # the client's name in the server's logs (None: httpx's)

    def __init__(self, base_url: str, token: str | None) -> None:
        self.base_url = normalize_url(base_url)
        self._token = token

    def _http_options(self, timeout: httpx.Timeout) -> dict[str, Any]:
        """What both httpx clients are built with: the API's root, the token, the timeout."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        return {"base_url": self.base_url + API_PREFIX, "headers": headers, "timeout": timeout}

    def _unreachable(self, exc: Exception) -> Unreachable:
        """The error for a call that got no HTTP answer at all."""
        reason = str(exc) or type(exc).__name__
        return Unreachable(f"cannot reach the API at {self.base_url}: {reason}", code="unreachable")
