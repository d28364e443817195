"""How both front ends write durations and costs (the web monitor's views and the CLI's
tables show the same text), and the dash that stands for "no value"."""

from __future__ import annotations

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
