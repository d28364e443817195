"""bench/peers.py's pure parts: the per-round table with ratios, the medians, the shapes every
peer's workload code follows, and the /proc reading. Nothing here times anything."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from bench import peers, peers_jm, peers_table, processes

WORKLOAD = Path(peers.__file__).parent / "peers" / "workload.py"


def load_workload() -> Any:
    spec = importlib.util.spec_from_file_location("peers_workload", WORKLOAD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def result(system: str, w1: float, w2: float, p50: float, ok: bool = True) -> dict[str, Any]:
    def workload(rate: float, steps: int, cpu: float) -> dict[str, Any]:
        cpu_s = {"workers": cpu, "postgres": None, "server": None, "redis": 0.1}
        return {"ok": ok, "steps": steps, "steps_per_s": rate, "cpu_s": cpu_s}

    w3 = {"ok": ok, "p50_ms": p50, "p95_ms": p50 * 2, "cpu_s": {}}
    return {
        "system": system,
        "W1": workload(w1, 1000, 3.0),
        "W2": workload(w2, 500, 1.5),
        "W3": w3,
        "load1": 1.5,
    }


def test_round_rows_give_each_system_its_ratio_to_jobmonitor_simple_worker() -> None:
    rows = peers_table.round_rows(
        [[result("jm-simple", 200, 100, 20), result("dbos", 400, 50, 60)]]
    )[0]
    jm, dbos = rows
    assert (jm["W1 x jm"], jm["W2 x jm"], jm["W3 p50 x jm"]) == (1.0, 1.0, 1.0)
    assert (dbos["W1 x jm"], dbos["W2 x jm"], dbos["W3 p50 x jm"]) == (2.0, 0.5, 3.0)
    # CPU per step over W1 + W2: (3.0 + 1.5) s over 1500 steps; absent servers stay absent
    assert dbos["workers ms/step"] == 3.0
    assert dbos["redis ms/step"] is not None and round(dbos["redis ms/step"], 6) == round(
        200 / 1500, 6
    )
    assert dbos["pg ms/step"] is None and dbos["server ms/step"] is None


def test_a_failed_round_is_shown_but_not_counted_and_gives_no_ratios() -> None:
    rounds = [
        [result("jm-simple", 200, 100, 20), result("dbos", 400, 50, 60)],
        [result("jm-simple", 100, 100, 20, ok=False), result("dbos", 300, 50, 60)],
        [result("jm-simple", 300, 100, 30), result("dbos", 600, 80, 90, ok=False)],
    ]
    table = peers_table.round_rows(rounds)
    assert [r["ok"] for r in table[1]] == [False, True]
    assert table[1][1]["W1 x jm"] is None  # no baseline that round
    summary = {s["system"]: s for s in peers_table.medians(table, ["jm-simple", "dbos"])}
    assert summary["jm-simple"]["rounds"] == 2 and summary["jm-simple"]["failed"] == 1
    assert summary["jm-simple"]["W1 steps/s"] == 250  # median of 200 and 300
    assert summary["dbos"]["rounds"] == 2 and summary["dbos"]["W1 steps/s"] == 350
    assert summary["dbos"]["W1 x jm"] == 2.0  # the one round with both: 400 / 200
    text = peers_table.format_table(table[1])
    assert "jm-simple (FAILED)" in text and text.count("\n") == 3


def test_pg_delta_counts_backends_born_in_the_window_whole() -> None:
    assert processes.pg_delta({1: 2.0, 2: 1.0}, {1: 2.5, 2: 1.0, 3: 0.25}) == 0.75


def test_proc_stat_reads_this_process() -> None:
    stat = processes.proc_stat(os.getpid())
    assert stat is not None and stat[0] == os.getppid() and stat[1] >= 0
    assert processes.tree_cpu([os.getpid()]) >= stat[1]


def test_shapes_every_peer_follows() -> None:
    workload = load_workload()
    assert [workload.successors("chain3", i) for i in range(3)] == [[1], [2], []]
    assert workload.successors("fan8", 0) == list(range(1, 9))
    assert [workload.fan_in("fan8", i) for i in (0, 1, 8, 9)] == [None, 9, 9, None]
    assert workload.fan_in("chain10", 3) is None
    assert workload.step_ids("r", "chain3") == ["r-0", "r-1", "r-2"]
    # Jobmonitor's workflow definitions have the same shapes
    for shape, deps in peers_jm.JM_SHAPES.items():
        assert len(deps) == workload.SHAPES[shape]
        for index, parents in enumerate(deps):
            for parent in parents:
                assert index in workload.successors(shape, parent) or (
                    workload.fan_in(shape, parent) == index
                )
