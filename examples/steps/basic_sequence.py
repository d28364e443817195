"""basic_sequence: initialize -> process -> finalize over generated order records."""

from __future__ import annotations

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


@example_step("basic_sequence.initialize")
def initialize(ctx: StepContext) -> dict[str, Any]:
    """Generate the job's records and check each one."""
    knobs, records = load_records(ctx)
    invalid = sum(1 for record in track(ctx, records) if record_errors(record))
    ctx.log(f"generated {len(records)} records from seed {knobs.seed}; {invalid} invalid")
    ctx.metric("records_generated", len(records), "records")
    ctx.metric("records_invalid", invalid, "records")
    charge_compute(ctx, len(records))
    return {
        "records": len(records),
        "invalid": invalid,
        "seed": knobs.seed,
        "checksum": digest(records),
    }


@example_step("basic_sequence.process")
def process(ctx: StepContext) -> dict[str, Any]:
    """Total the valid records per category, after checking they are initialize's records."""
    _, records = load_records(ctx)
    expected = ctx.upstream["initialize"]["checksum"]
    if digest(records) != expected:
        raise ValueError(
            f"records differ from initialize's (checksum {digest(records)} != {expected})"
        )
    amounts: dict[str, list[float]] = {}
    for record in track(ctx, records):
        if not record_errors(record):
            amounts.setdefault(record["category"], []).append(record["amount"])
    categories = {name: amount_stats(values) for name, values in sorted(amounts.items())}
    valid = sum(len(values) for values in amounts.values())
    ctx.log(f"totalled {valid} valid records in {len(categories)} categories")
    ctx.metric("records_processed", len(records), "records")
    ctx.metric("categories", len(categories), "categories")
    charge_compute(ctx, len(records))
    return {"valid": valid, "categories": categories}


@example_step("basic_sequence.finalize")
def finalize(ctx: StepContext) -> dict[str, Any]:
    """Rank the categories by revenue and seal the report with a checksum."""
    categories: dict[str, dict[str, float]] = ctx.upstream["process"]["categories"]
    ranking = sorted(categories.items(), key=lambda item: (-item[1]["sum"], item[0]))
    lines = []
    for rank, (name, stats) in enumerate(track(ctx, ranking), start=1):
        lines.append(f"{rank}. {name}: {int(stats['count'])} orders, {stats['sum']:.2f} USD")
        ctx.log(lines[-1])
    grand_total = round(sum(stats["sum"] for stats in categories.values()), 2)
    ctx.metric("grand_total", grand_total, "USD")
    charge_compute(ctx, len(lines))
    return {
        "top_category": ranking[0][0] if ranking else None,
        "grand_total": grand_total,
        "report": lines,
        "report_checksum": digest(lines),
    }
