"""The sign-in check every page's load makes (`requires_sign_in`), against a stand-in for the
two things it reads from a Reflex state: the tab's AuthState and the page's URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from jobmonitor.state import AccessState, AuthState, requires_sign_in
from tests import aio


class Access:
    """AccessState's part here: it learns a token's role from the API (here: "viewer")."""

    def __init__(self) -> None:
        self.role, self._role_of, self.asked = "", "", 0

    async def learn_role(self, token: str) -> None:
        self.asked += 1
        self.role, self._role_of = "viewer", token


class Tab:
    def __init__(self, token: str, path: str, session: str = "") -> None:
        self.auth = SimpleNamespace(token=token, session=session)
        self.access = Access()
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
    shortcuts, *page = run(tab)
    assert page == ["rows", "watch"]
    assert "__jmKeys" in str(dict((k._js_expr, v) for k, v in shortcuts.args)["javascript_code"])
    assert tab.loaded and load.__name__ == "load" and load.__doc__ == "A page's load."
    assert tab.auth.session == "jm_token", "the WebSockets' session cookie follows the token"


def test_the_role_is_asked_once_per_token() -> None:
    tab = Tab("jm_token", "/jobs")
    run(tab)
    run(tab)
    assert (tab.access.role, tab.access.asked) == ("viewer", 1)
    tab.auth.token = "jm_other"
    run(tab)
    assert (tab.access._role_of, tab.access.asked) == ("jm_other", 2)
