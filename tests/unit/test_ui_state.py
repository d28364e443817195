"""The sign-in check every page's load makes (`requires_sign_in`), against a stand-in for the
two things it reads from a Reflex state: the tab's AuthState and the page's URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from jobmonitor.state import AccessState, AuthState, requires_sign_in
from tests import aio


class Tab:
    def __init__(self, token: str, path: str, session: str = "") -> None:
        self.auth = SimpleNamespace(token=token, session=session)
        self.access = SimpleNamespace(role="", _role_of="")
        self.router = SimpleNamespace(url=SimpleNamespace(path=path))
        self.loaded = False

    async def get_state(self, state_class: type) -> Any:
        assert state_class in (AuthState, AccessState)
        return self.auth if state_class is AuthState else self.access


@requires_sign_in
async def load(tab: Any) -> AsyncIterator[Any]:
    """A page's load."""
    tab.loaded = True
    yield "rows"
    yield "watch"


def run(tab: Tab) -> list[Any]:
    async def go() -> list[Any]:
        return [update async for update in load(tab)]

    return aio.run(go())


def redirect_path(update: Any) -> str:
    args = {name._js_expr: value for name, value in update.args}
    return str(args["path"]._var_value)


def test_a_signed_out_tab_goes_to_sign_in_and_comes_back_afterwards() -> None:
    tab = Tab("", "/jobs/123/")
    updates = run(tab)
    assert len(updates) == 1 and redirect_path(updates[0]) == "/signin?next=%2Fjobs%2F123"
    assert not tab.loaded
    assert redirect_path(run(Tab("", "/"))[0]) == "/signin?next=%2F"


def test_a_signed_in_tab_loads_the_page() -> None:
    tab = Tab("jm_token", "/jobs")
    shortcuts, access, *page = run(tab)
    assert page == ["rows", "watch"]
    assert "__jmKeys" in str(dict((k._js_expr, v) for k, v in shortcuts.args)["javascript_code"])
    assert access is AccessState.load
    assert tab.loaded and load.__name__ == "load" and load.__doc__ == "A page's load."
    assert tab.auth.session == "jm_token", "the WebSockets' session cookie follows the token"


def test_the_role_is_asked_once_per_token() -> None:
    tab = Tab("jm_token", "/jobs")
    tab.access = SimpleNamespace(role="viewer", _role_of="jm_token")
    assert run(tab)[1:] == ["rows", "watch"]
    assert tab.access.role == "viewer"
    tab.auth.token = "jm_other"
    assert len(run(tab)) == 4
    assert tab.access.role == "", "another token's role is unknown until /me answers"
