"""Signing in with an API token: the form, the link `jobmonitor up` prints, a reload, sign out."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from playwright.sync_api import expect


def test_sign_in_survives_a_reload_and_sign_out_ends_it(
    browser: Any, web_app: str, token: str
) -> None:
    context = browser.new_context(base_url=web_app)
    page = context.new_page()
    page.goto("/jobs")
    page.wait_for_url("**/signin?next=*")
    page.get_by_label("API token").fill("jm_00000000_not-a-real-token-at-all-000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")

    page.get_by_label("API token").fill(token)
    # the new draft reached the app (typing clears the error) before the form is sent: under
    # load a click could otherwise race the input's debounced update and send the old token
    expect(page.get_by_role("alert")).to_have_count(0)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/jobs")
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()

    page.reload()
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    assert "/signin" not in page.url

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    page.goto("/jobs")
    page.wait_for_url("**/signin?next=*")
    context.close()


def test_every_page_sends_a_signed_out_browser_to_sign_in_and_back(
    browser: Any, web_app: str, token: str
) -> None:
    context = browser.new_context(base_url=web_app)
    page = context.new_page()
    for path in ("/", "/jobs/00000000-0000-0000-0000-000000000000", "/workflows"):
        page.goto(path)
        page.wait_for_url(f"**/signin?next={quote(path.rstrip('/') or '/', safe='')}")
    page.goto("/workflows/basic_sequence")
    page.wait_for_url("**/signin?next=%2Fworkflows%2Fbasic_sequence")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/workflows/basic_sequence")
    expect(page.get_by_role("heading", name="basic_sequence")).to_be_visible()
    context.close()
