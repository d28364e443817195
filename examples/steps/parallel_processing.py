"""parallel_processing: prepare and shard the records, process the shards in parallel
branches (one action, the shard in the step's params), merge and verify the results."""

from __future__ import annotations

from collections import Counter
from typing import Any

from backend.steps import StepContext
from examples.steps.common import (
    amount_stats,
    charge_compute,
    digest,
    example_step,
    load_records,
    merge_stats,
    record_errors,
    stable_bucket,
    track,
)

SHARDS = ("a", "b", "c")


def shard_of(customer: str) -> str:
    """The shard of a customer: all orders of one customer land in the same branch."""
    return SHARDS[stable_bucket(customer, len(SHARDS))]


def shard_summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Amount stats, orders per category and distinct customers of some records."""
    return {
        "amount": amount_stats(r["amount"] for r in records),
        "categories": dict(sorted(Counter(r["category"] for r in records).items())),
        "customers": len({r["customer"] for r in records}),
    }


@example_step("parallel_processing.data_preparation")
def data_preparation(ctx: StepContext) -> dict[str, Any]:
    """Generate the records, drop the invalid ones and assign each to a shard by customer."""
    knobs, records = load_records(ctx)
    sizes: Counter[str] = Counter()
    invalid = 0
    for record in track(ctx, records):
        if record_errors(record):
            invalid += 1
        else:
            sizes[shard_of(record["customer"])] += 1
    shards = {shard: sizes[shard] for shard in SHARDS}
    ctx.log(
        f"prepared {len(records)} records (seed {knobs.seed}): {invalid} invalid, shards {shards}"
    )
    ctx.metric("records_prepared", len(records), "records")
    ctx.metric("records_invalid", invalid, "records")
    charge_compute(ctx, len(records))
    return {
        "records": len(records),
        "valid": len(records) - invalid,
        "shards": shards,
        "checksum": digest(records),
    }


@example_step("parallel_processing.branch")
def branch(ctx: StepContext) -> dict[str, Any]:
    """Summarise the shard named in params.shard."""
    shard = str(ctx.params.get("shard", ""))
    if shard not in SHARDS:
        raise ValueError(f"params.shard must be one of {', '.join(SHARDS)}, not {shard!r}")
    _, records = load_records(ctx)
    prepared = ctx.upstream["data_preparation"]
    if digest(records) != prepared["checksum"]:
        raise ValueError("records differ from the prepared ones (checksum mismatch)")
    mine = [
        r for r in track(ctx, records) if shard_of(r["customer"]) == shard and not record_errors(r)
    ]
    if len(mine) != prepared["shards"][shard]:
        raise ValueError(
            f"shard {shard} has {len(mine)} records, prepared {prepared['shards'][shard]}"
        )
    summary = shard_summary(mine)
    ctx.log(f"shard {shard}: {len(mine)} records, {summary['customers']} customers")
    ctx.metric("shard_records", len(mine), "records")
    ctx.metric("shard_amount", summary["amount"]["sum"], "USD")
    charge_compute(ctx, len(mine))
    return {"shard": shard, **summary}


@example_step("parallel_processing.merge_results")
def merge_results(ctx: StepContext) -> dict[str, Any]:
    """Merge the branches' summaries and check them against a single pass over all records."""
    parts = sorted(ctx.upstream.values(), key=lambda part: part["shard"])
    categories: Counter[str] = Counter()
    for part in track(ctx, parts):
        categories.update(part["categories"])
    merged = {
        "amount": merge_stats(part["amount"] for part in parts),
        "categories": dict(sorted(categories.items())),
        "customers": sum(part["customers"] for part in parts),
    }
    _, records = load_records(ctx)
    direct = shard_summary([r for r in records if not record_errors(r)])
    if merged != direct:
        raise ValueError(f"merged result {merged} differs from a single pass {direct}")
    ctx.log(f"merged {len(parts)} shards: {merged['amount']['count']} records, verified")
    ctx.metric("records_merged", merged["amount"]["count"], "records")
    ctx.metric("total_amount", merged["amount"]["sum"], "USD")
    charge_compute(ctx, len(records))
    return {
        "shards": [part["shard"] for part in parts],
        **merged,
        "verified": True,
        "checksum": digest(merged),
    }
