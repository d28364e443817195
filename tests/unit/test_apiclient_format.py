"""Durations and costs as both front ends write them."""

from __future__ import annotations

import pytest

from apiclient.format import DASH, cost_text, duration_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, DASH),
        (-1, DASH),
        (0, "0.0s"),
        (2.345, "2.3s"),
        (42, "42s"),
        (130, "2m 10s"),
        (3900, "1h 5m"),
    ],
)
def test_duration_text_reads_minutes_and_seconds(seconds: float | None, text: str) -> None:
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [(0, "$0"), (None, "$0"), (0.25, "$0.25"), (0.0031, "$0.0031"), (12.5, "$12.50")],
)
def test_cost_text(amount: float | None, text: str) -> None:
    assert cost_text(amount) == text


def test_delta_text_names_each_changed_key_with_its_sign() -> None:
    from apiclient.format import delta_text

    before, after = {"rows": 10, "bad": 3, "same": 1}, {"rows": 210, "bad": 1, "same": 1}
    delta = {"rows": 200, "bad": -2, "same": 0}
    assert delta_text(before, after, delta) == "rows 10 -> 210 (+200); bad 3 -> 1 (-2)"
    assert delta_text(before, before, {"rows": 0}) == "no change"
    assert delta_text(None, after, None) == "—"  # no snapshot
