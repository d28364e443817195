"""Run modes. `global_batch` processes everything pending and is the mode the workflow's
concurrency policy (duplicate detection, rate limit) applies to; `single_item` processes one
item, whose id the steps read as `ctx.item_id`; `single_run` resumes one run (a job)."""

from __future__ import annotations

from enum import StrEnum


class RunMode(StrEnum):
    GLOBAL_BATCH = "global_batch"
    SINGLE_ITEM = "single_item"
    SINGLE_RUN = "single_run"


# the seed runner's names for the same modes
ALIASES = {"single_posting": RunMode.SINGLE_ITEM}


def parse_mode(value: str) -> RunMode:
    """A mode or one of its aliases; ValueError for anything else."""
    return ALIASES.get(value) or RunMode(value)
