"""data_pipeline: a 7-step ETL into a simulated target store (SQLite, see store.py).

Source records go to CSV lines in `staging`, are parsed and normalised into `transformed`,
loaded into `target`, checked there, and the job's staging rows are removed. Every table is
keyed by job, so a retried step replaces its own rows and never duplicates them. The
snapshot `data_pipeline.state` counts the target rows (the run audit's before/after state).
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections import Counter
from typing import Any

from backend.steps import StepContext, expected_work, snapshot
from examples.steps import store
from examples.steps.common import (
    Knobs,
    charge_compute,
    digest,
    example_step,
    load_records,
    record_errors,
    track,
)

NAME = "data_pipeline"
FIELDS = ("id", "customer", "category", "region", "quantity", "amount", "email")
COLUMNS = (
    "row_id",
    "customer",
    "category",
    "region",
    "quantity",
    "amount_cents",
    "email",
    "valid",
    "errors",
)
BATCH = 500
DEFAULT_MAX_INVALID_RATIO = 0.2
_ROW_TABLE = """(
    job_id TEXT NOT NULL, row_id INTEGER NOT NULL, customer TEXT NOT NULL, category TEXT NOT NULL,
    region TEXT NOT NULL, quantity INTEGER NOT NULL, amount_cents INTEGER NOT NULL,
    email TEXT NOT NULL, valid INTEGER NOT NULL, errors TEXT NOT NULL,
    PRIMARY KEY (job_id, row_id))"""
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS staging (
    job_id TEXT NOT NULL, row_id INTEGER NOT NULL, line TEXT NOT NULL, PRIMARY KEY (job_id, row_id));
CREATE TABLE IF NOT EXISTS transformed {_ROW_TABLE};
CREATE TABLE IF NOT EXISTS target {_ROW_TABLE};
"""


def to_line(record: dict[str, Any]) -> str:
    """One record as a CSV line (the extracted form)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([record[f] for f in FIELDS])
    return out.getvalue()


def transform_line(line: str) -> list[Any]:
    """Parse a CSV line and normalise it into a row of COLUMNS (amount in cents, email lower case)."""
    values = dict(zip(FIELDS, next(csv.reader([line])), strict=True))
    quantity, amount = int(values["quantity"]), float(values["amount"])
    customer, email = values["customer"].strip(), values["email"].strip().lower()
    category, region = values["category"].strip().lower(), values["region"].strip().lower()
    errors = record_errors(
        {"amount": amount, "quantity": quantity, "email": email, "category": category}
    )
    return [
        int(values["id"]),
        customer,
        category,
        region,
        quantity,
        round(amount * 100),
        email,
        int(not errors),
        "; ".join(errors),
    ]


def _rows(conn: sqlite3.Connection, table: str, job_id: str) -> list[list[Any]]:
    query = f"SELECT {', '.join(COLUMNS)} FROM {table} WHERE job_id = ? ORDER BY row_id"
    return [list(row) for row in conn.execute(query, (job_id,))]


def _replace(conn: sqlite3.Connection, table: str, job_id: str, rows: list[list[Any]]) -> None:
    conn.execute(f"DELETE FROM {table} WHERE job_id = ?", (job_id,))
    marks = ", ".join("?" * (len(COLUMNS) + 1))
    conn.executemany(
        f"INSERT INTO {table} (job_id, {', '.join(COLUMNS)}) VALUES ({marks})",
        [(job_id, *row) for row in rows],
    )


@example_step("data_pipeline.validate_source")
def validate_source(ctx: StepContext) -> dict[str, Any]:
    """Check that every source record has the expected fields, and count bad values."""
    knobs, records = load_records(ctx)
    structural = content = 0
    for record in track(ctx, records):
        if set(record) != set(FIELDS):
            structural += 1
        elif record_errors(record):
            content += 1
    ctx.log(
        f"source (seed {knobs.seed}): {len(records)} records, {structural} malformed, {content} with bad values"
    )
    ctx.metric("source_records", len(records), "records")
    ctx.metric("source_bad_values", content, "records")
    charge_compute(ctx, len(records))
    if structural:
        raise ValueError(
            f"{structural} source record(s) do not have the fields {', '.join(FIELDS)}"
        )
    return {
        "records": len(records),
        "fields": list(FIELDS),
        "bad_values": content,
        "checksum": digest(records),
    }


@example_step("data_pipeline.extract_data")
def extract_data(ctx: StepContext) -> dict[str, Any]:
    """Extract the source records as CSV lines into the staging table."""
    _, records = load_records(ctx)
    if digest(records) != ctx.upstream["validate_source"]["checksum"]:
        raise ValueError("the source changed since it was validated")
    lines = [to_line(record) for record in track(ctx, records)]
    with store.writing(NAME, SCHEMA) as conn:
        conn.execute("DELETE FROM staging WHERE job_id = ?", (ctx.job_id,))
        conn.executemany(
            "INSERT INTO staging (job_id, row_id, line) VALUES (?, ?, ?)",
            [(ctx.job_id, i, line) for i, line in enumerate(lines, start=1)],
        )
    size = sum(len(line) + 1 for line in lines)
    ctx.log(f"extracted {len(lines)} rows ({size} bytes of CSV) into staging")
    ctx.metric("rows_extracted", len(lines), "rows")
    ctx.metric("bytes_extracted", size, "bytes")
    charge_compute(ctx, len(lines))
    return {"rows": len(lines), "bytes": size, "checksum": digest(lines)}


@example_step("data_pipeline.transform_data")
def transform_data(ctx: StepContext) -> dict[str, Any]:
    """Parse and normalise the staged lines into the transformed table, flagging invalid rows."""
    with store.reading(NAME, SCHEMA) as conn:
        lines = [
            r["line"]
            for r in conn.execute(
                "SELECT line FROM staging WHERE job_id = ? ORDER BY row_id", (ctx.job_id,)
            )
        ]
    if (
        len(lines) != ctx.upstream["extract_data"]["rows"]
        or digest(lines) != ctx.upstream["extract_data"]["checksum"]
    ):
        raise ValueError("the staged lines differ from what extract_data wrote")
    rows = [transform_line(line) for line in track(ctx, lines)]
    with store.writing(NAME, SCHEMA) as conn:
        _replace(conn, "transformed", ctx.job_id, rows)
    valid = sum(row[7] for row in rows)
    ctx.log(f"transformed {len(rows)} rows: {valid} valid, {len(rows) - valid} flagged invalid")
    ctx.metric("rows_transformed", len(rows), "rows")
    ctx.metric("rows_invalid", len(rows) - valid, "rows")
    charge_compute(ctx, len(rows))
    return {
        "rows": len(rows),
        "valid": valid,
        "invalid": len(rows) - valid,
        "checksum": digest(rows),
    }


@example_step("data_pipeline.validate_transformation")
def validate_transformation(ctx: StepContext) -> dict[str, Any]:
    """Check the transformed rows against transform_data's report and the invalid-row budget."""
    with store.reading(NAME, SCHEMA) as conn:
        rows = _rows(conn, "transformed", ctx.job_id)
    reported = ctx.upstream["transform_data"]
    if digest(rows) != reported["checksum"]:
        raise ValueError("the transformed rows differ from what transform_data reported")
    errors: Counter[str] = Counter()
    for row in track(ctx, rows):
        errors.update(e for e in row[8].split("; ") if e)
    invalid = sum(1 for row in rows if not row[7])
    ratio = round(invalid / len(rows), 4) if rows else 0.0
    limit = float(ctx.params.get("max_invalid_ratio", DEFAULT_MAX_INVALID_RATIO))
    ctx.log(
        f"{invalid} of {len(rows)} rows invalid ({ratio:.1%}, limit {limit:.0%}): {dict(errors)}"
    )
    ctx.metric("invalid_ratio", ratio, "ratio")
    charge_compute(ctx, len(rows))
    if ratio > limit:
        raise ValueError(f"{ratio:.1%} of the rows are invalid, more than the limit of {limit:.0%}")
    return {
        "rows": len(rows),
        "invalid": invalid,
        "invalid_ratio": ratio,
        "errors": dict(sorted(errors.items())),
        "checksum": reported["checksum"],
    }


@example_step("data_pipeline.load_data")
def load_data(ctx: StepContext) -> dict[str, Any]:
    """Load the job's transformed rows into the target table (replacing an earlier load)."""
    with store.reading(NAME, SCHEMA) as conn:
        rows = _rows(conn, "transformed", ctx.job_id)
    if digest(rows) != ctx.upstream["validate_transformation"]["checksum"]:
        raise ValueError("the transformed rows changed since they were validated")
    batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
    loaded: list[list[Any]] = []
    for batch in track(ctx, batches):
        loaded.extend(batch)
    with store.writing(NAME, SCHEMA) as conn:
        _replace(conn, "target", ctx.job_id, loaded)
    valid = sum(row[7] for row in loaded)
    ctx.log(f"loaded {len(loaded)} rows in {len(batches)} batch(es) into the target store")
    ctx.metric("rows_loaded", len(loaded), "rows")
    ctx.metric("batches", len(batches), "batches")
    charge_compute(ctx, len(loaded))
    return {
        "loaded": len(loaded),
        "valid": valid,
        "batches": len(batches),
        "checksum": digest(loaded),
    }


@example_step("data_pipeline.post_load_validation")
def post_load_validation(ctx: StepContext) -> dict[str, Any]:
    """Read the loaded rows back from the target and check them against load_data's report."""
    with store.reading(NAME, SCHEMA) as conn:
        rows = _rows(conn, "target", ctx.job_id)
    reported = ctx.upstream["load_data"]
    cents = sum(row[5] for row in track(ctx, rows) if row[7])
    if len(rows) != reported["loaded"] or digest(rows) != reported["checksum"]:
        raise ValueError(
            f"the target holds {len(rows)} rows of this job, not the {reported['loaded']} loaded"
        )
    ctx.log(f"target verified: {len(rows)} rows, valid amount total {cents / 100:.2f} USD")
    ctx.metric("rows_verified", len(rows), "rows")
    ctx.metric("amount_total", cents / 100, "USD")
    charge_compute(ctx, len(rows))
    return {
        "rows": len(rows),
        "valid": reported["valid"],
        "amount_total": cents / 100,
        "verified": True,
    }


@example_step("data_pipeline.cleanup")
def cleanup(ctx: StepContext) -> dict[str, Any]:
    """Remove the job's staging and transformed rows."""
    removed: dict[str, int] = {}
    with store.writing(NAME, SCHEMA) as conn:
        for table in ("staging", "transformed"):
            removed[table] = conn.execute(
                f"DELETE FROM {table} WHERE job_id = ?", (ctx.job_id,)
            ).rowcount
    for table in track(ctx, sorted(removed)):
        ctx.log(f"removed {removed[table]} {table} row(s)")
    ctx.metric("rows_removed", sum(removed.values()), "rows")
    charge_compute(ctx, sum(removed.values()))
    return {"removed": removed}


@snapshot("data_pipeline.state")
def state() -> dict[str, int]:
    """Counts of the target store: what a job added shows as the delta of two snapshots."""
    with store.reading(NAME, SCHEMA) as conn:
        target = conn.execute(
            "SELECT count(*), coalesce(sum(valid), 0), count(DISTINCT job_id) FROM target"
        ).fetchone()
        staged = conn.execute("SELECT count(*) FROM staging").fetchone()
    return {
        "rows_total": int(target[0]),
        "rows_valid": int(target[1]),
        "rows_invalid": int(target[0]) - int(target[1]),
        "batches_loaded": int(target[2]),
        "rows_staged": int(staged[0]),
    }


@expected_work("data_pipeline.expected")
def expected(payload: dict[str, Any]) -> dict[str, int]:
    """What a run with this input will process: its source records, through extract and load,
    and the staging rows left behind by earlier runs that did not clean up."""
    records = Knobs.from_input(payload).records
    with store.reading(NAME, SCHEMA) as conn:
        leftover = conn.execute("SELECT count(*) FROM staging").fetchone()
    return {
        "pending_extract": records,
        "pending_load": records,
        "pending_cleanup": int(leftover[0]),
    }
