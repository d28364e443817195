"""What the navigation shows besides its fixed links: the open failure groups (the badge on
Failures) and the saved views. Every page's on_load refreshes it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from apiclient.errors import ApiError
from jobmonitor import routes
from jobmonitor.state import AuthState, client_of


@dataclass
class ViewLink:
    id: str = ""
    name: str = ""
    href: str = ""
    shared: bool = False


class NavState(rx.State):
    open_failures: int = 0
    views: list[ViewLink] = []

    @rx.event
    async def load(self) -> None:
        if not (await self.get_state(AuthState)).token:
            return
        client = await client_of(self)
        try:
            count, views = await asyncio.gather(client.open_failures(), client.views())
        except ApiError:
            return  # the page itself shows what is wrong
        self.open_failures = count
        self.views = [
            ViewLink(v.id, v.name, routes.jobs_search(v.query), v.owner is None) for v in views
        ]
