"""Timestamps (the API sends ISO-8601 UTC): absolute in the browser's time zone, or
relative ("2 minutes ago") and kept current."""

from __future__ import annotations

import reflex as rx

from apiclient.format import DASH

ABSOLUTE = "YYYY-MM-DD HH:mm:ss"


def timestamp(value: rx.Var[str], **props: object) -> rx.Component:
    return rx.cond(
        value != "", rx.moment(value, format=ABSOLUTE, **props), rx.text(DASH, as_="span")
    )


def relative_time(value: rx.Var[str], **props: object) -> rx.Component:
    """ "2 minutes ago", refreshed every 30 s; the exact time shows as its title."""
    return rx.cond(
        value != "",
        rx.moment(
            value, from_now=True, interval=30_000, with_title=True, title_format=ABSOLUTE, **props
        ),
        rx.text(DASH, as_="span"),
    )
