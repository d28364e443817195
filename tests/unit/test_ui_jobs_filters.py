"""The job list's view as a URL: parsing is lenient, writing leaves defaults out, and a view
survives the round trip (what Back, reload and a shared link rely on)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from jobmonitor.jobs_filters import DEFAULT_PAGE_SIZE, NEWEST, OLDEST, ListView
from jobmonitor.pages.jobs_state import TAB_KEYS


def parse(url: str) -> ListView:
    return ListView.from_params(dict(parse_qsl(urlsplit(url).query)), TAB_KEYS)


def test_the_default_view_is_the_bare_path() -> None:
    assert ListView().url() == "/jobs"
    assert parse("/jobs") == ListView()


def test_the_issue_example_parses_with_a_one_based_page() -> None:
    view = parse("/jobs?status=failed&q=etl&page=3")
    assert (view.tab, view.q, view.page) == ("failed", "etl", 2)
    assert view.url() == "/jobs?status=failed&q=etl&page=3"


@pytest.mark.parametrize(
    "view",
    [
        ListView(tab="running", q="input.mode=fast error~time out", page=4, size=100),
        ListView(sort=OLDEST, start="2026-11-01", end="2026-11-30"),
        ListView(tab="waiting", q="a&b=c#d"),
    ],
)
def test_round_trip(view: ListView) -> None:
    assert parse(view.url()) == view


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=nonsense", ListView()),
        ("page=0", ListView()),
        ("page=-4", ListView()),
        ("page=x", ListView()),
        ("size=7", ListView()),
        ("size=50", ListView(size=50)),
        ("sort=sideways", ListView(sort=NEWEST)),
        ("from=2026-13-45&to=yesterday", ListView()),
    ],
)
def test_bad_values_mean_their_default(query: str, expected: ListView) -> None:
    assert parse(f"/jobs?{query}") == expected


def test_a_new_filter_goes_back_to_the_first_page() -> None:
    view = ListView(page=5)
    assert view.with_(tab="failed").page == 0
    assert view.with_(page=6).page == 6
    assert view.with_(size=DEFAULT_PAGE_SIZE).page == 0


def test_the_date_range_includes_both_days_in_utc() -> None:
    view = ListView(start="2026-11-30", end="2026-12-01")
    assert view.created_after() == "2026-11-30T00:00:00+00:00"
    assert view.created_before() == "2026-12-02T00:00:00+00:00"
    assert ListView().created_after() is None and ListView().created_before() is None
