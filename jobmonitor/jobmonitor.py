"""The Reflex app: builds `rx.App` around the REST API and registers the pages."""

import reflex as rx

from backend.api.app import create_app


def index() -> rx.Component:
    """Placeholder home page until the real pages land."""
    return rx.container(rx.heading("Jobmonitor", as_="h1", size="8"), padding_y="2em")


app = rx.App(api_transformer=create_app())
app.add_page(index, route="/", title="Jobmonitor")
