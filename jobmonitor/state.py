"""The small state every page shares: the signed-in API token (kept in the browser's
localStorage, so it survives a reload, and in the `jm_session` cookie the WebSockets read), the API client built from it (`client_of`), and
the sign-in check every page's on_load makes (`requires_sign_in`)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import reflex as rx
from reflex.event import EventSpec

from apiclient.client import ApiClient
from apiclient.errors import ApiError, Forbidden, Unauthorized, Unavailable, ValidationFailed
from jobmonitor import routes
from jobmonitor.keyboard import install_shortcuts


class AuthState(rx.State):
    token: str = rx.LocalStorage("", name="jm_token", sync=True)
    # the same token as a same-site cookie: what the API's WebSockets accept from this
    # browser (with its Origin checked), so scripts in a signed-in page need no token
    session: str = rx.Cookie("", name="jm_session", path="/", same_site="strict")

    def keep(self, token: str) -> None:
        """Sign in (or out, with "") in both places."""
        self.token = self.session = token

    @rx.event
    def sign_out(self) -> EventSpec:
        self.keep("")
        return rx.redirect(routes.SIGNIN)


def signin_redirect(path: str) -> EventSpec:
    """Send the browser to the sign-in page, coming back to `path` afterwards."""
    return rx.redirect(routes.signin(next_path=path.rstrip("/") or routes.HOME))


async def client_of(state: rx.State) -> ApiClient:
    """The API client of the browser tab `state` belongs to (with its signed-in token)."""
    auth = await state.get_state(AuthState)
    return ApiClient(auth.token)


OPERATOR_ROLES = ("operator", "admin")  # backend.auth.service.Role: who may change jobs


class AccessState(rx.State):
    """What the signed-in token may do, from `GET /me` (asked once per token). Pages disable
    or hide what it may not do (`jobmonitor.components.guard`); the API refuses it anyway."""

    role: str = ""  # viewer | operator | admin; "" until the API has answered
    _role_of: str = ""  # the token `role` belongs to

    @rx.var
    def can_operate(self) -> bool:
        """Start, cancel, resume, re-run and delete jobs, decide reviews, run human steps."""
        return self.role in OPERATOR_ROLES

    @rx.var
    def can_administer(self) -> bool:
        """Also tokens, workspaces and workflow definitions."""
        return self.role == "admin"

    @rx.var
    def operate_denied(self) -> str:
        """Why an operator's action is off (the tooltip of its disabled control)."""
        if self.role in OPERATOR_ROLES:
            return ""
        if not self.role:
            return "Checking what your token may do…"
        return f"Your token's role is {self.role}: this needs an operator or admin token."

    async def learn_role(self, token: str) -> None:
        """Ask the API for `token`'s role (once per token: a token's role does not change).
        Inline, in the page's first load: the first render already knows it."""
        self.role = ""
        try:
            me = await ApiClient(token).me()
        except ApiError:
            return  # the page's own load shows what is wrong; the API still refuses
        self.role, self._role_of = me.role, token


S = TypeVar("S", bound=rx.State)
Load = Callable[[S], AsyncIterator[Any]]


def requires_sign_in(load: Load[S]) -> Load[S]:
    """Wrap a page's load: a signed-out browser goes to the sign-in page instead, coming back
    to this page afterwards (`next`). An expired token is caught later, by the API's 401."""

    @functools.wraps(load)
    async def signed_in_load(state: S) -> AsyncIterator[Any]:
        auth = await state.get_state(AuthState)
        if not auth.token:
            yield signin_redirect(state.router.url.path)
            return
        if auth.session != auth.token:  # signed in before the cookie existed
            auth.session = auth.token
        yield install_shortcuts()
        access = await state.get_state(AccessState)
        if access._role_of != auth.token:  # first page of this tab, or another token
            await access.learn_role(auth.token)
        async for update in load(state):
            yield update

    return signed_in_load


def assign(state: rx.State, name: str, value: Any) -> None:
    """Set a var only when it changes: an unchanged var is not sent to the browser again
    (live pages refresh often; payloads and step lists can be large)."""
    if getattr(state, name) != value:
        setattr(state, name, value)


def error_kind(exc: ApiError) -> str:
    """How a page shows a failed load: not_found, forbidden, signed_out or network."""
    if isinstance(exc, Unauthorized):
        return "signed_out"
    if isinstance(exc, Forbidden):
        return "forbidden"
    if isinstance(exc, Unavailable):
        return "network"
    return "not_found" if exc.status == 404 or malformed_id(exc) else "error"


def malformed_id(exc: ApiError) -> bool:
    """The API refused the id in its path (`/jobs/not-a-uuid`: 422 on `path.job_id`): for a
    page named by that id it simply does not exist, and retrying cannot help."""
    details = exc.details if isinstance(exc, ValidationFailed) else None
    locs = (
        [d.get("loc") for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    )
    return bool(locs) and all(isinstance(loc, list) and loc[:1] == ["path"] for loc in locs)


def action_error_toast(exc: ApiError) -> EventSpec:
    """The toast for an action the API refused."""
    if isinstance(exc, Forbidden):
        return rx.toast.error("Your token's role does not allow this action.")
    if isinstance(exc, Unavailable):
        return rx.toast.error(f"The API is unreachable: {exc.message}")
    return rx.toast.error(exc.message)
