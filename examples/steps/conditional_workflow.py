"""conditional_workflow: input.mode picks one of three processing branches (fast: a sample,
standard: a full pass, thorough: a full pass with outliers and duplicates); the others are
skipped, and aggregate_results reports whichever ran."""

from __future__ import annotations

import statistics
from typing import Any

from backend.steps import StepContext
from examples.steps.common import (
    amount_stats,
    charge_compute,
    digest,
    example_step,
    load_records,
    record_errors,
    track,
)

MODES = ("fast", "standard", "thorough")
DEFAULT_MODE = "standard"
SAMPLE_EVERY = 10  # fast mode reads every 10th valid record


def mode_of(payload: dict[str, Any]) -> str:
    """The job's mode (the schema's default when the input has none)."""
    mode = payload.get("mode") or DEFAULT_MODE
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    return str(mode)


def valid_amounts(ctx: StepContext) -> list[float]:
    """The amounts of the job's valid records, in record order."""
    _, records = load_records(ctx)
    return [r["amount"] for r in track(ctx, records) if not record_errors(r)]


def outliers(values: list[float], k: float = 1.5) -> list[float]:
    """Values outside the Tukey fences (k times the interquartile range beyond the quartiles)."""
    if len(values) < 4:
        return []
    q1, _, q3 = statistics.quantiles(values, n=4)
    low, high = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    return [v for v in values if v < low or v > high]


@example_step("conditional_workflow.evaluate_condition")
def evaluate_condition(ctx: StepContext) -> dict[str, Any]:
    """Check the records and announce which branch the mode selects."""
    mode = mode_of(ctx.input)
    _, records = load_records(ctx)
    invalid = sum(1 for record in track(ctx, records) if record_errors(record))
    ctx.log(
        f"mode {mode}: branch {mode}_process will run on {len(records) - invalid} valid records"
    )
    ctx.metric("records", len(records), "records")
    ctx.metric("records_invalid", invalid, "records")
    charge_compute(ctx, len(records))
    return {
        "mode": mode,
        "branch": f"{mode}_process",
        "records": len(records),
        "valid": len(records) - invalid,
        "checksum": digest(records),
    }


@example_step("conditional_workflow.fast_process")
def fast_process(ctx: StepContext) -> dict[str, Any]:
    """Estimate the totals from a sample of every 10th valid record."""
    amounts = valid_amounts(ctx)
    sample = amounts[::SAMPLE_EVERY]
    stats = amount_stats(sample)
    estimate = round(stats["mean"] * len(amounts), 2)
    ctx.log(f"sampled {len(sample)} of {len(amounts)} records; estimated total {estimate:.2f}")
    ctx.metric("records_sampled", len(sample), "records")
    charge_compute(ctx, len(sample))
    return {
        "mode": "fast",
        "exact": False,
        "records": len(amounts),
        "sampled": len(sample),
        "mean_amount": stats["mean"],
        "total_amount": estimate,
    }


@example_step("conditional_workflow.standard_process")
def standard_process(ctx: StepContext) -> dict[str, Any]:
    """Compute the exact totals in one full pass."""
    amounts = valid_amounts(ctx)
    stats = amount_stats(amounts)
    ctx.log(f"full pass over {len(amounts)} records; total {stats['sum']:.2f}")
    ctx.metric("records_processed", len(amounts), "records")
    charge_compute(ctx, len(amounts))
    return {
        "mode": "standard",
        "exact": True,
        "records": len(amounts),
        "mean_amount": stats["mean"],
        "total_amount": stats["sum"],
        "min_amount": stats["min"],
        "max_amount": stats["max"],
    }


@example_step("conditional_workflow.thorough_process")
def thorough_process(ctx: StepContext) -> dict[str, Any]:
    """Exact totals plus spread, outliers and duplicate orders."""
    _, records = load_records(ctx)
    valid = [r for r in track(ctx, records) if not record_errors(r)]
    amounts = [r["amount"] for r in valid]
    stats = amount_stats(amounts)
    found = outliers(amounts)
    keys = [(r["customer"], r["amount"]) for r in valid]
    duplicates = len(keys) - len(set(keys))
    ctx.log(
        f"thorough pass over {len(amounts)} records: {len(found)} outliers, {duplicates} duplicates"
    )
    ctx.metric("records_processed", len(amounts), "records")
    ctx.metric("outliers", len(found), "records")
    charge_compute(ctx, 3 * len(amounts))
    return {
        "mode": "thorough",
        "exact": True,
        "records": len(amounts),
        "mean_amount": stats["mean"],
        "total_amount": stats["sum"],
        "stdev_amount": round(statistics.pstdev(amounts), 2) if amounts else 0.0,
        "outliers": len(found),
        "duplicates": duplicates,
    }


@example_step("conditional_workflow.aggregate_results")
def aggregate_results(ctx: StepContext) -> dict[str, Any]:
    """Report the result of whichever branch ran (skipped branches have no upstream entry)."""
    ran = sorted(ctx.upstream)
    if len(ran) != 1:
        raise ValueError(
            f"expected exactly one processing branch to have run, found {ran or 'none'}"
        )
    branch = ran[0]
    result = ctx.upstream[branch]
    for _ in track(ctx, ran):
        ctx.log(f"{branch} ran in {result['mode']} mode: total {result['total_amount']:.2f} USD")
    ctx.metric("total_amount", result["total_amount"], "USD")
    charge_compute(ctx, 1)
    return {
        "mode": result["mode"],
        "branch": branch,
        "exact": result["exact"],
        "records": result["records"],
        "total_amount": result["total_amount"],
        "mean_amount": result["mean_amount"],
    }
