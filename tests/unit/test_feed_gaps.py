"""The event feed's position: ids skipped over are looked for again, for a while."""

from __future__ import annotations

from backend.automation.feed import GAP_SECONDS, advance


def test_skipped_ids_become_gaps_and_fill_later() -> None:
    last, gaps = advance(10, [], [11, 14, 15], now=100.0)
    assert last == 15 and [g[0] for g in gaps] == [12, 13]
    last, gaps = advance(last, gaps, [13, 16], now=101.0)  # 13 committed late
    assert last == 16 and [g[0] for g in gaps] == [12]
    last, gaps = advance(last, gaps, [], now=100.0 + GAP_SECONDS)  # 12 rolled back: dropped
    assert last == 16 and gaps == []


def test_nothing_new_keeps_the_position() -> None:
    assert advance(7, [[5, 50.0]], [], now=60.0) == (7, [[5, 50.0]])
