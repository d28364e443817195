"""bench/peers.py's tables: per round and median figures per system, with each system's ratio
to Jobmonitor SimpleWorker in the same round. Pure functions of the raw results (unit-tested)."""

from __future__ import annotations

import statistics
from typing import Any

BASELINE = "jm-simple"


def percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def round_ok(result: dict[str, Any]) -> bool:
    return all(result.get(w, {}).get("ok") for w in ("W1", "W2", "W3"))


def row_figures(result: dict[str, Any]) -> dict[str, float | None]:
    """The table's figures for one system's round (None where the system has none)."""
    w1, w2, w3 = (result.get(w, {}) for w in ("W1", "W2", "W3"))
    steps = (w1.get("steps") or 0) + (w2.get("steps") or 0)

    def per_step(kind: str) -> float | None:
        spent = [w.get("cpu_s", {}).get(kind) for w in (w1, w2)]
        if not steps or None in spent:
            return None
        return 1000 * sum(spent) / steps

    return {
        "W1 steps/s": w1.get("steps_per_s"),
        "W2 steps/s": w2.get("steps_per_s"),
        "W3 p50 ms": w3.get("p50_ms"),
        "W3 p95 ms": w3.get("p95_ms"),
        "p->c p50 ms": w3.get("parent_child_p50_ms"),
        "workers ms/step": per_step("workers"),
        "pg ms/step": per_step("postgres"),
        "server ms/step": per_step("server"),
        "redis ms/step": per_step("redis"),
        "load1": result.get("load1"),
    }


RATIOS = {"W1 x jm": "W1 steps/s", "W2 x jm": "W2 steps/s", "W3 p50 x jm": "W3 p50 ms"}


def with_ratios(figures: dict[str, float | None], baseline: dict[str, float | None]) -> None:
    """Each system's figure over Jobmonitor SimpleWorker's in the same round."""
    for ratio, key in RATIOS.items():
        mine, base = figures.get(key), baseline.get(key)
        figures[ratio] = mine / base if mine is not None and base else None


def round_rows(rounds: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Per round, per system: {"system", "ok", figures..., ratios...}."""
    table = []
    for results in rounds:
        rows = [
            {"system": r["system"], "ok": round_ok(r), **row_figures(r), "error": r.get("error")}
            for r in results
        ]
        base = next((r for r in rows if r["system"] == BASELINE and r["ok"]), {})
        for row in rows:
            with_ratios(row, base)
        table.append(rows)
    return table


def medians(table: list[list[dict[str, Any]]], order: list[str]) -> list[dict[str, Any]]:
    """Per system, the median of each figure (ratios included) over its completed rounds."""
    out = []
    for name in order:
        rows = [r for rows in table for r in rows if r["system"] == name and r["ok"]]
        failed = sum(1 for rows in table for r in rows if r["system"] == name and not r["ok"])
        summary: dict[str, Any] = {"system": name, "rounds": len(rows), "failed": failed}
        for key in COLUMNS:
            values = [r[key] for r in rows if r.get(key) is not None]
            summary[key] = statistics.median(values) if values else None
        out.append(summary)
    return out


COLUMNS = [
    "W1 steps/s",
    "W2 steps/s",
    "W3 p50 ms",
    "W3 p95 ms",
    "p->c p50 ms",
    "workers ms/step",
    "pg ms/step",
    "server ms/step",
    "redis ms/step",
    "load1",
    *RATIOS,
]


def format_table(rows: list[dict[str, Any]], first: str = "system") -> str:
    """A Markdown table of `rows` (one per system), numbers to 2-3 significant places."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return (
                f"{value:.0f}"
                if abs(value) >= 100
                else f"{value:.2g}"
                if value < 1
                else f"{value:.1f}"
            )
        return str(value)

    head = [first, *COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        label = row["system"] + ("" if row.get("ok", True) else " (FAILED)")
        lines.append("| " + " | ".join([label, *(cell(row.get(k)) for k in COLUMNS)]) + " |")
    return "\n".join(lines)


def print_failures(results: list[dict[str, Any]]) -> None:
    for r in results:
        errors = [r.get("error")] + [
            f"{w}: {r[w].get('error') or r[w]}"
            for w in ("W1", "W2", "W3")
            if w in r and not r[w]["ok"]
        ]
        if any(errors):
            print(f"  {r['system']} failed: {'; '.join(e for e in errors if e)}")
