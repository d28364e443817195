"""The example workflows without servers: their definitions, the shared knobs, the pure
helpers, and every workflow run in process with a fake context."""

from __future__ import annotations

import json
import random
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

import examples.steps  # noqa: F401  (registers the example steps and snapshots)
from backend.steps import REGISTRY
from backend.workflows import expressions
from backend.workflows.definition import apply_defaults, parse_definition
from backend.workflows.input_schema import validate as validate_input
from examples import WORKFLOW_NAMES, WORKFLOWS_DIR, load_workflow, workflow_files
from examples.steps import common, corpus, data_pipeline, llm
from examples.steps.common import Knobs, PlannedFailure, StepStopped
from examples.steps.conditional_workflow import mode_of, outliers
from examples.steps.parallel_processing import SHARDS, shard_of

KNOBS = ("records", "seed", "delay_seconds", "fail_step", "fail_times")


class FakeContext:
    """A StepContext that keeps what the step reports."""

    def __init__(
        self, step_key: str = "s", *, attempt: int = 1, job_id: str = "job-1", **fields: Any
    ) -> None:
        self.job_id, self.step_key, self.attempt = job_id, step_key, attempt
        self.input: dict[str, Any] = fields.get("input", {})
        self.params: dict[str, Any] = fields.get("params", {})
        self.upstream: dict[str, Any] = fields.get("upstream", {})
        self.payload: Any = fields.get("payload")
        self.logs: list[str] = []
        self.progress_values: list[float] = []
        self.costs: list[dict[str, Any]] = []
        self.metrics: list[tuple[str, float, str | None]] = []
        self.beats = 0
        self.cancel_after_beats: int | None = fields.get("cancel_after_beats")

    def log(self, message: str, level: str = "info") -> None:
        self.logs.append(message)

    def progress(self, fraction: float) -> None:
        self.progress_values.append(fraction)

    def cost(self, amount_usd: float | None = None, **details: Any) -> None:
        self.costs.append({"amount_usd": amount_usd, **details})

    def metric(self, name: str, value: float, unit: str | None = None) -> None:
        self.metrics.append((name, value, unit))

    def heartbeat(self) -> None:
        self.beats += 1

    @property
    def cancelled(self) -> bool:
        return self.cancel_after_beats is not None and self.beats >= self.cancel_after_beats


def run_in_process(name: str, payload: dict[str, Any]) -> dict[str, tuple[Any, float, FakeContext]]:
    """Run a workflow's steps in order with fake contexts: output, seconds and context per step."""
    definition = parse_definition(load_workflow(name), REGISTRY.steps.keys())
    payload = apply_defaults(definition.input_schema, payload)  # as create_job stores it
    job_id, outputs, results = str(uuid.uuid4()), {}, {}
    for spec in definition.order():
        if spec.condition and not expressions.evaluate(spec.condition, payload, outputs):
            continue
        upstream = {key: outputs[key] for key in spec.depends_on if key in outputs}
        ctx = FakeContext(
            spec.key, job_id=job_id, input=payload, params=spec.params, upstream=upstream
        )
        started = time.perf_counter()
        outputs[spec.key] = REGISTRY.steps[spec.action](ctx)
        results[spec.key] = (outputs[spec.key], time.perf_counter() - started, ctx)
    return results


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JOBMONITOR_DATA_DIR", str(tmp_path))
    return tmp_path


# --- definitions -------------------------------------------------------------------------


def test_workflow_files_are_the_five_examples_in_order() -> None:
    files = workflow_files()
    assert [f.stem for f in files] == list(WORKFLOW_NAMES)
    assert sorted(files) == sorted(WORKFLOWS_DIR.glob("*.json"))


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.stem)
def test_definition_parses_with_registered_actions(path: Path) -> None:
    definition = parse_definition(json.loads(path.read_text()), REGISTRY.steps.keys())
    assert definition.name == path.stem
    assert definition.snapshot is None or definition.snapshot in REGISTRY.snapshots
    for s in definition.steps:
        assert s.action.startswith(f"{definition.name}.")
        assert s.name and s.name != s.key and s.name[0].isupper()
        assert s.retry.max_attempts == 3 and s.timeout_seconds


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_input_schema_documents_the_shared_knobs(name: str) -> None:
    document = load_workflow(name)
    properties = document["input_schema"]["properties"]
    defaults = Knobs()
    assert set(KNOBS) <= set(properties)
    assert all(p.get("description") for p in properties.values())
    for knob in ("records", "seed", "delay_seconds", "fail_times"):
        assert properties[knob]["default"] == getattr(defaults, knob)
    assert properties["records"]["maximum"] == common.MAX_RECORDS
    assert properties["fail_step"]["enum"] == [s["key"] for s in document["steps"]]
    schema = document["input_schema"]
    assert validate_input(schema, {}) == []
    assert (
        validate_input(
            schema, {key: p["default"] for key, p in properties.items() if "default" in p}
        )
        == []
    )
    assert validate_input(schema, {"records": 0, "delay_seconds": -1, "fail_step": "nope"})


def test_conditional_definition_runs_one_branch_per_mode() -> None:
    document = load_workflow("conditional_workflow")
    mode = document["input_schema"]["properties"]["mode"]
    assert mode["enum"] == ["fast", "standard", "thorough"] and mode["default"] == "standard"
    conditions = {s["key"]: s["condition"] for s in document["steps"] if s.get("condition")}
    for payload, branch in [
        ({"mode": "fast"}, "fast"),
        ({"mode": "thorough"}, "thorough"),
        ({}, "standard"),
    ]:
        stored = apply_defaults(document["input_schema"], payload)  # what create_job stores
        chosen = [k for k, c in conditions.items() if expressions.evaluate(c, stored, {})]
        assert chosen == [f"{branch}_process"]


# --- shared knobs ------------------------------------------------------------------------


def test_knobs_read_the_input_with_defaults_and_bounds() -> None:
    assert Knobs.from_input({}) == Knobs(200, 42, 0.0, None, 1)
    knobs = Knobs.from_input(
        {"records": 10**9, "seed": 3, "delay_seconds": -2, "fail_step": "", "fail_times": 2}
    )
    assert knobs == Knobs(common.MAX_RECORDS, 3, 0.0, None, 2)
    planned = Knobs(fail_step="load", fail_times=2)
    assert [planned.fails("load", n) for n in (1, 2, 3)] == [True, True, False]
    assert not planned.fails("other", 1)
    assert not Knobs(fail_step="load", fail_times=0).fails("load", 1)


def test_example_step_fails_the_planned_attempts_only() -> None:
    initialize = REGISTRY.steps["basic_sequence.initialize"]
    payload = {"records": 5, "fail_step": "initialize", "fail_times": 2}
    for attempt in (1, 2):
        with pytest.raises(PlannedFailure, match="'initialize', attempt"):
            initialize(FakeContext("initialize", attempt=attempt, input=payload))
    assert initialize(FakeContext("initialize", attempt=3, input=payload))["records"] == 5
    assert initialize(FakeContext("other", attempt=1, input=payload))["records"] == 5


def test_track_yields_everything_and_ends_at_full_progress() -> None:
    ctx = FakeContext()
    assert list(common.track(ctx, list(range(95)))) == list(range(95))
    assert ctx.progress_values == sorted(ctx.progress_values) and ctx.progress_values[-1] == 1.0
    assert len(ctx.progress_values) <= common.PROGRESS_TICKS + 1
    empty = FakeContext()
    assert list(common.track(empty, [])) == [] and empty.progress_values == [1.0]


def test_track_spreads_the_delay_over_the_loop() -> None:
    ctx = FakeContext(input={"delay_seconds": 0.2})
    started = time.monotonic()
    assert len(list(common.track(ctx, list(range(40))))) == 40
    assert 0.2 <= time.monotonic() - started < 1.0


def test_pause_heartbeats_and_stops_when_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "HEARTBEAT_EVERY", 0.0)
    monkeypatch.setattr(common, "PAUSE_SLICE", 0.01)
    ctx = FakeContext(cancel_after_beats=3)
    with pytest.raises(StepStopped):
        common.pause(ctx, 5.0)
    assert ctx.beats == 3
    quiet = FakeContext()
    common.pause(quiet, 0.03)
    assert quiet.beats >= 1


def test_charge_compute_is_proportional_and_skips_zero() -> None:
    ctx = FakeContext()
    assert common.charge_compute(ctx, 500) == pytest.approx(0.001)
    assert common.charge_compute(ctx, 0) == 0
    assert ctx.costs == [{"amount_usd": 0.001, "provider": "local", "kind": "compute"}]


# --- pure helpers ------------------------------------------------------------------------


def test_generated_records_depend_only_on_the_seed() -> None:
    records = common.generate_records(5, 1000)
    assert records == common.generate_records(5, 1000)
    assert records != common.generate_records(6, 1000)
    assert [r["id"] for r in records] == list(range(1, 1001))
    invalid = [r for r in records if common.record_errors(r)]
    assert 0.02 < len(invalid) / len(records) < 0.1


def test_record_errors_names_each_problem() -> None:
    good = {"amount": 3.5, "quantity": 1, "email": "a@b.c", "category": "books"}
    assert common.record_errors(good) == []
    bad = {"amount": -1, "quantity": 0, "email": "nope", "category": "cars"}
    assert len(common.record_errors(bad)) == 4


def test_digest_is_stable_and_ignores_key_order() -> None:
    assert common.digest({"a": 1, "b": [1, 2]}) == common.digest({"b": [1, 2], "a": 1})
    assert common.digest({"a": 1}) != common.digest({"a": 2})
    assert len(common.digest([])) == 16


def test_stable_bucket_and_shards_spread_keys() -> None:
    buckets = [common.stable_bucket(f"c{i:05d}", 3) for i in range(300)]
    assert buckets == [common.stable_bucket(f"c{i:05d}", 3) for i in range(300)]
    assert all(buckets.count(b) > 60 for b in range(3))
    assert {shard_of(f"c{i:05d}") for i in range(50)} == set(SHARDS)


def test_merged_stats_equal_the_stats_of_the_whole() -> None:
    rng = random.Random(1)
    values = [round(rng.uniform(1, 500), 2) for _ in range(500)]
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, 500), 3))
        parts = [values[a:b] for a, b in zip([0, *cuts], [*cuts, 500], strict=True)]
        assert common.merge_stats(common.amount_stats(p) for p in parts) == common.amount_stats(
            values
        )
    assert common.merge_stats([common.amount_stats([])]) == common.amount_stats([])
    assert common.amount_stats([1.0, 2.0, 4.5]) == {
        "count": 3,
        "sum": 7.5,
        "min": 1.0,
        "max": 4.5,
        "mean": 2.5,
    }


def test_conditional_helpers() -> None:
    assert mode_of({}) == "standard" and mode_of({"mode": "fast"}) == "fast"
    with pytest.raises(ValueError, match="mode must be one of"):
        mode_of({"mode": "turbo"})
    assert outliers([10, 11, 12, 13, 11, 12, 500]) == [500]
    assert outliers([1, 2]) == []


def test_pipeline_lines_round_trip_and_flag_bad_rows() -> None:
    record = {
        "id": 7,
        "customer": "c00001",
        "category": "Books",
        "region": "EU",
        "quantity": 2,
        "amount": 12.3,
        "email": "A@Example.com",
    }
    row = data_pipeline.transform_line(data_pipeline.to_line(record))
    assert row == [7, "c00001", "books", "eu", 2, 1230, "a@example.com", 1, ""]
    broken = data_pipeline.transform_line(
        data_pipeline.to_line({**record, "quantity": 0, "email": "x, y"})
    )
    assert broken[7] == 0 and broken[8] == "quantity must be at least 1; email is not an address"


def test_token_count_and_prices() -> None:
    assert llm.token_count("Hello, world! It's 3pm.") == 9  # Hello , world ! It ' s 3pm .
    assert llm.price("grok-2-latest", 1_000_000, 100_000) == 3.0
    assert llm.price("local-echo", 5000, 5000) == 0.0
    with pytest.raises(ValueError, match="unknown model"):
        llm.price("gpt-9", 1, 1)
    usage = llm.Usage("gpt-4o-mini")
    usage.add("one two three", "four.")
    ctx = FakeContext()
    assert usage.report(ctx) == llm.price("gpt-4o-mini", 3, 2)
    assert ctx.costs[0] | {"amount_usd": 0} == {
        "amount_usd": 0,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "tokens_in": 3,
        "tokens_out": 2,
    }


def test_corpus_documents_keywords_and_proposals() -> None:
    docs = corpus.generate_documents(3, 40)
    assert docs == corpus.generate_documents(3, 40)
    assert len({d["doc_id"] for d in docs}) == 40
    assert corpus.keywords("b a b c c c the the the", limit=2) == [("c", 3), ("b", 2)]
    notes = [{**d, "keywords": corpus.keywords(d["body"])} for d in docs]
    assert corpus.summary_of(notes[0]).startswith(
        corpus.first_sentence(notes[0]["body"]) + " Topics: "
    )
    items = corpus.propose(notes, 30)
    assert len(items) == 30 and len({i["id"] for i in items}) == 30
    assert {i["kind"] for i in items} == {"tag", "link"}
    assert all(0 < i["confidence"] < 1 and i["status"] == "pending" for i in items)
    assert corpus.propose(notes, 5) == items[:5]


# --- whole workflows in process ----------------------------------------------------------


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_workflow_runs_in_process_fast_and_reports(name: str) -> None:
    results = run_in_process(name, {})
    for key, (output, seconds, ctx) in results.items():
        json.dumps(output)
        assert seconds < 0.25, f"{key} took {seconds:.3f} s"  # typically 1-15 ms
        assert ctx.logs and ctx.metrics and ctx.costs, key
        assert not ctx.progress_values or ctx.progress_values[-1] == 1.0


def test_snapshots_count_the_stores() -> None:
    assert REGISTRY.snapshots["data_pipeline.state"]()["rows_total"] == 0
    run_in_process("data_pipeline", {"records": 30})
    invalid = sum(
        1 for r in common.generate_records(common.DEFAULT_SEED, 30) if common.record_errors(r)
    )
    assert invalid > 0
    assert REGISTRY.snapshots["data_pipeline.state"]() == {
        "rows_total": 30,
        "rows_valid": 30 - invalid,
        "rows_invalid": invalid,
        "batches_loaded": 1,
        "rows_staged": 0,
    }
    run_in_process("memory_first_v2", {"records": 30, "limit": 10})
    memory = REGISTRY.snapshots["memory_first_v2.state"]()
    assert memory["documents_total"] == memory["documents_with_summary"] == 30
    assert (
        memory["proposals_total"]
        == 10
        == memory["proposals_applied"] + memory["proposals_rejected"]
    )
