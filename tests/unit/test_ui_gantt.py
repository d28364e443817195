"""Gantt bar geometry on a shared axis, and the DAG layout of the workflow page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobmonitor import dag, gantt

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_bars_are_percentages_of_the_job_span() -> None:
    spans = [gantt.Span(at(0), at(30)), gantt.Span(at(30), at(120)), gantt.Span(None, None)]
    bars = gantt.bars(spans, now=at(500))
    assert bars[0] == gantt.Bar(0.0, 25.0, True)
    assert bars[1] == gantt.Bar(25.0, 75.0, True)
    assert bars[2] == gantt.Bar(0.0, 0.0, False)


def test_a_running_step_extends_to_now_and_instant_steps_stay_visible() -> None:
    bars = gantt.bars([gantt.Span(at(0), at(0)), gantt.Span(at(0), None)], now=at(10))
    assert bars[0].width == gantt.MIN_WIDTH
    assert bars[1] == gantt.Bar(0.0, 100.0, True)


def test_nothing_started_means_no_axis() -> None:
    assert gantt.axis([gantt.Span(None, None)], now=T0) is None
    assert gantt.bars([gantt.Span(None, None)], now=T0) == [gantt.Bar(0.0, 0.0, False)]


def test_ticks() -> None:
    assert gantt.ticks(120) == ["0s", "30s", "1m 0s", "1m 30s", "2m 0s"]


def test_dag_columns_follow_dependency_depth() -> None:
    steps = [
        dag.StepRef("prep", "Prep", ()),
        dag.StepRef("a", "A", ("prep",)),
        dag.StepRef("b", "B", ("prep",)),
        dag.StepRef("merge", "Merge", ("a", "b")),
    ]
    layout = dag.layout(steps)
    x = {n.key: n.x for n in layout.nodes}
    y = {n.key: n.y for n in layout.nodes}
    assert x["prep"] < x["a"] == x["b"] < x["merge"]
    assert y["a"] != y["b"]
    assert len(layout.edges) == 4
    assert all(e.path.startswith("M ") for e in layout.edges)
    assert layout.width > x["merge"] and layout.height > max(y.values())


def test_dag_ignores_unknown_dependencies_and_cycles() -> None:
    steps = [dag.StepRef("a", "A", ("b", "ghost")), dag.StepRef("b", "B", ("a",))]
    layout = dag.layout(steps)
    assert len(layout.nodes) == 2
    assert len(layout.edges) == 2


def test_a_deep_dag_wraps_into_bands_that_fit_the_page() -> None:
    """The 7-step data_pipeline chain is two bands (4 + 3), not 1,600 px of one row."""
    keys = ["validate", "extract", "transform", "check", "load", "verify", "cleanup"]
    steps = [dag.StepRef(k, k.title(), (keys[i - 1],) if i else ()) for i, k in enumerate(keys)]
    layout = dag.layout(steps)
    nodes = {n.key: n for n in layout.nodes}
    assert layout.width <= 860
    assert all(n.x + dag.NODE_W <= layout.width for n in layout.nodes)
    assert all(n.y + dag.NODE_H <= layout.height for n in layout.nodes)
    assert nodes["load"].x == nodes["validate"].x and nodes["load"].y > nodes["check"].y
    assert nodes["cleanup"].y == nodes["load"].y and nodes["cleanup"].x > nodes["load"].x
    assert len(layout.edges) == 6
