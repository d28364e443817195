"""How both front ends write durations, costs and run deltas (the web monitor's views and the
CLI's tables show the same text), and the dash that stands for "no value"."""

from __future__ import annotations

from typing import Any

DASH = "—"


def duration_text(seconds: float | None) -> str:
    """The monitor's duration: "2m 10s", "1h 5m", "42s"; sub-10 s keeps one decimal."""
    if seconds is None or seconds < 0:
        return DASH
    if seconds < 10:
        return f"{seconds:.1f}s"
    total = int(seconds)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def cost_text(amount: float | None) -> str:
    """ "$0.25", "$0.0031"; no cost recorded shows "$0"."""
    if not amount:
        return "$0"
    if amount >= 1:
        return f"${amount:,.2f}"
    return "$" + f"{amount:.4f}".rstrip("0").rstrip(".")


def signed(n: Any) -> str:
    """+5, -2, 0.5 (numbers as the run audit's delta holds them)."""
    return f"+{n:g}" if isinstance(n, int | float) and n > 0 else f"{n:g}"


def delta_text(before: Any, after: Any, delta: Any) -> str:
    """A run's change: 'rows_total 0 -> 200 (+200)' per key that changed; a dash without a
    snapshot."""
    if not isinstance(after, dict) or not isinstance(before, dict):
        return DASH
    changes = [
        f"{key} {before.get(key)} -> {after[key]} ({signed(delta[key])})"
        for key in after
        if isinstance(delta, dict) and delta.get(key)
    ]
    return "; ".join(changes) or "no change"
