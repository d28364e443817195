"""The job list's view as a URL (`/jobs?status=failed&q=etl&page=3`): tab, search, page, page
size, sort and created-date range, so Back returns to the same view, a filtered view can be
shared and a reload keeps it. `ListView` parses leniently (a bad value means its default) and
writes only what differs from the defaults; the controls that set the new filters (sortable
Created header, date range) are functions of Vars like the other components."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from jobmonitor import routes

PAGE_SIZES = ("10", "25", "50", "100")
DEFAULT_PAGE_SIZE = 25
NEWEST, OLDEST = "newest", "oldest"
API_SORT = {NEWEST: "-created_at", OLDEST: "created_at"}  # the API's `sort` values


@dataclass(frozen=True)
class ListView:
    """What the job table shows. `page` counts from 0 here and from 1 in the URL; `start`
    and `end` are days (YYYY-MM-DD, UTC), both included."""

    tab: str = "all"
    q: str = ""
    page: int = 0
    size: int = DEFAULT_PAGE_SIZE
    sort: str = NEWEST
    start: str = ""
    end: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str], tabs: Collection[str]) -> ListView:
        status = params.get("status", "all")
        size = _int(params.get("size"), DEFAULT_PAGE_SIZE)
        return cls(
            tab=status if status in tabs else "all",
            q=params.get("q", "")[:1000],
            page=max(_int(params.get("page"), 1), 1) - 1,
            size=size if str(size) in PAGE_SIZES else DEFAULT_PAGE_SIZE,
            sort=OLDEST if params.get("sort") == OLDEST else NEWEST,
            start=valid_day(params.get("from")),
            end=valid_day(params.get("to")),
        )

    def params(self) -> dict[str, str]:
        """The URL's query parameters: only what differs from the default view."""
        values = {
            "status": self.tab if self.tab != "all" else "",
            "q": self.q,
            "page": str(self.page + 1) if self.page else "",
            "size": str(self.size) if self.size != DEFAULT_PAGE_SIZE else "",
            "sort": self.sort if self.sort != NEWEST else "",
            "from": self.start,
            "to": self.end,
        }
        return {k: v for k, v in values.items() if v}

    def url(self) -> str:
        params = self.params()
        return f"{routes.JOBS}?{urlencode(params)}" if params else routes.JOBS

    def with_(self, **changes: Any) -> ListView:
        """Another filter: back to the first page unless `page` is what changed."""
        return replace(self, **{"page": 0, **changes})

    @property
    def filtered(self) -> bool:
        return bool(self.q.strip() or self.tab != "all" or self.start or self.end)

    def created_after(self) -> str | None:
        """The API's `created_after`: the start of the first day."""
        return _midnight(self.start).isoformat() if self.start else None

    def created_before(self) -> str | None:
        """The API's `created_before`: the start of the day after the last one."""
        return (_midnight(self.end) + timedelta(days=1)).isoformat() if self.end else None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def valid_day(value: str | None) -> str:
    """A valid YYYY-MM-DD, else ""."""
    try:
        return date.fromisoformat(value).isoformat() if value else ""
    except ValueError:
        return ""


def _midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)


# controls


def sort_header(label: str, sort: rx.Var[str], on_click: Any) -> rx.Component:
    """A column header that sorts by creation time: newest first, click for oldest first."""
    oldest = sort == OLDEST
    return rx.table.column_header_cell(
        rx.el.button(
            label,
            rx.cond(oldest, rx.icon("arrow-up", size=14), rx.icon("arrow-down", size=14)),
            on_click=on_click,
            title="Sort by creation time",
            aria_label=rx.cond(
                oldest,
                f"{label}: oldest first, sort newest first",
                f"{label}: newest first, sort oldest first",
            ),
            style={
                "all": "unset",
                "cursor": "pointer",
                "display": "inline-flex",
                "align_items": "center",
                "gap": "4px",
                "font_weight": "bold",
            },
        ),
        aria_sort=rx.cond(oldest, "ascending", "descending"),
    )


def date_range(
    start: rx.Var[str],
    end: rx.Var[str],
    on_start: Callable[[Any], Any],
    on_end: Callable[[Any], Any],
    on_clear: Any,
) -> rx.Component:
    """Created from / to (days in UTC, both included), with a reset."""
    return rx.hstack(
        rx.el.label("Created from", html_for="created-from", class_name="jm-label"),
        rx.el.input(
            type="date",
            id="created-from",
            value=start,
            max=end,
            on_change=on_start,
            class_name="jm-native-select",
        ),
        rx.el.label("to", html_for="created-to", class_name="jm-label"),
        rx.el.input(
            type="date",
            id="created-to",
            value=end,
            min=start,
            on_change=on_end,
            class_name="jm-native-select",
        ),
        rx.text("UTC", size="1", color_scheme="gray"),
        rx.cond(
            (start != "") | (end != ""),
            rx.icon_button(
                rx.icon("x", size=14),
                variant="ghost",
                size="1",
                aria_label="Clear the date range",
                on_click=on_clear,
            ),
        ),
        align="center",
        spacing="2",
    )
