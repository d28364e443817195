"""Sign in with an API token. `/signin?token=...` (the link `jobmonitor up` prints) fills
it in and signs in at once; `?next=/path` is where to go afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from apiclient.client import ApiClient
from apiclient.errors import ApiError, Forbidden, Unauthorized
from jobmonitor import routes
from jobmonitor.pages.shell import connection_banner
from jobmonitor.state import AuthState


class SignInState(rx.State):
    draft: str = ""
    error: str = ""
    checking: bool = False

    @rx.event
    async def load(self) -> AsyncIterator[Any]:
        params = self.router.url.query_parameters
        self.error = ""
        token = str(params.get("token", "")).strip()
        if token:
            self.draft = token
            async for update in self._sign_in():
                yield update

    @rx.event
    def set_draft(self, value: str) -> None:
        self.draft, self.error = value, ""

    @rx.event
    async def submit(self, form: dict[str, Any] | None = None) -> AsyncIterator[Any]:
        if form and form.get("token"):
            self.draft = str(form["token"])
        async for update in self._sign_in():
            yield update

    async def _sign_in(self) -> AsyncIterator[Any]:
        token = self.draft.strip()
        if not token:
            self.error = "Enter an API token."
            return
        self.checking = True
        yield
        try:
            await ApiClient(token).job_counts()
        except Unauthorized:
            self.error = "This token is not valid (unknown, mistyped or revoked)."
        except Forbidden:
            self.error = "This token may not read jobs."
        except ApiError as exc:
            self.error = f"Could not check the token: {exc.message}"
        else:
            auth = await self.get_state(AuthState)
            auth.keep(token)
            self.draft = ""
            self.checking = False
            yield rx.redirect(routes.safe_next(self.router.url.query_parameters.get("next")))
            return
        self.checking = False


def signin_page() -> rx.Component:
    return rx.center(
        rx.box(connection_banner(), class_name="jm-signin-banner"),
        rx.card(
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.icon("activity"),
                        rx.heading("Jobmonitor", as_="h1", size="6"),
                        align="center",
                    ),
                    rx.text("Sign in with an API token.", size="2", color_scheme="gray"),
                    rx.el.label("API token", html_for="token", class_name="jm-label"),
                    rx.input(
                        id="token",
                        name="token",
                        type="password",
                        value=SignInState.draft,
                        on_change=SignInState.set_draft,
                        placeholder="jm_…",
                        width="100%",
                        auto_complete="off",
                    ),
                    rx.cond(
                        SignInState.error != "",
                        rx.text(SignInState.error, color_scheme="red", size="2", role="alert"),
                    ),
                    rx.button("Sign in", type="submit", loading=SignInState.checking, width="100%"),
                    rx.text(
                        "Create one with: jobmonitor token create --role operator --name me",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=SignInState.submit,
                reset_on_submit=False,
            ),
            width="380px",
        ),
        min_height="100vh",
    )
