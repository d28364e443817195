"""The small state every page shares: the signed-in API token (kept in the browser's
localStorage, so it survives a reload) and the API client built from it."""

from __future__ import annotations

from typing import Any

import reflex as rx

from apiclient.client import ApiClient
from apiclient.errors import ApiError, Forbidden, Unauthorized, Unavailable
from jobmonitor import routes


class AuthState(rx.State):
    token: str = rx.LocalStorage("", name="jm_token", sync=True)

    @rx.var
    def signed_in(self) -> bool:
        return bool(self.token)

    def client(self) -> ApiClient:
        return ApiClient(self.token)

    @rx.event
    def sign_out(self) -> rx.event.EventSpec:
        self.token = ""
        return rx.redirect(routes.SIGNIN)


def signin_redirect(path: str) -> rx.event.EventSpec:
    """Send the browser to the sign-in page, coming back to `path` afterwards."""
    return rx.redirect(routes.signin(next_path=path.rstrip("/") or routes.HOME))


async def client_of(state: rx.State) -> ApiClient:
    """The API client of the browser tab `state` belongs to."""
    auth = await state.get_state(AuthState)
    return auth.client()


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
    return "not_found" if exc.status == 404 else "error"


def action_error_toast(exc: ApiError) -> rx.event.EventSpec:
    """The toast for an action the API refused."""
    if isinstance(exc, Forbidden):
        return rx.toast.error("Your token's role does not allow this action.")
    if isinstance(exc, Unavailable):
        return rx.toast.error(f"The API is unreachable: {exc.message}")
    return rx.toast.error(exc.message)
