"""Smoke test: the app builds and serves its pages, event websocket and REST API on one port."""

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect


def test_home_page_renders_and_connects(page: Page, web_app: str, artifacts_dir: Path) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    with page.expect_websocket(lambda ws: "/_event" in ws.url) as socket_info:
        page.goto("/")
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    socket = socket_info.value
    assert urlsplit(socket.url).port == urlsplit(web_app).port
    assert not socket.is_closed()
    page.wait_for_load_state("networkidle")
    assert failed == []


def test_api_served_on_the_same_port(web_app: str) -> None:
    with urllib.request.urlopen(f"{web_app}/api/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.load(response)["status"] == "ok"


def test_every_response_says_nosniff(web_app: str) -> None:
    """Pages, static files and the API, as the real app serves them (issue 10)."""
    for path in ("/", "/jobs", "/favicon.ico", "/api/healthz", "/api/v1/jobs", "/no/such/page"):
        request = urllib.request.Request(f"{web_app}{path}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                headers = response.headers
        except urllib.error.HTTPError as error:  # 401 / 404 carry it too
            headers = error.headers
        assert headers.get("X-Content-Type-Options") == "nosniff", path
