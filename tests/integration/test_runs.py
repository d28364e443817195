"""The run audit on the engine: the first before-state and estimate survive a resume, each
start is a segment with its own before, after and delta, and the job's delta spans them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.jobs import service
from tests.integration.conftest import Engine
from tests.stepdefs import ITEMS_WORKFLOW, write_items

ITEMS = {"name": "items", **ITEMS_WORKFLOW}


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JOBMONITOR_DATA_DIR", str(tmp_path))
    return tmp_path


def test_resume_keeps_the_first_before_state_and_records_segments(engine: Engine) -> None:
    engine.register(ITEMS)
    write_items({"pending": 5, "done": 0})
    job_id = engine.create("items")
    failed = engine.drain(job_id)
    assert failed["status"] == "failed"
    assert failed["state_before"] == {"items_pending": 5, "items_done": 0}
    assert failed["expected_work"] == {"pending_process": 5}
    assert failed["state_after"] == {"items_pending": 3, "items_done": 2}

    engine.act(service.resume_job, job_id)
    job = engine.drain(job_id)
    assert job["status"] == "completed"
    assert job["state_before"] == {"items_pending": 5, "items_done": 0}  # the first one
    assert job["expected_work"] == {"pending_process": 5}
    assert job["state_after"] == {"items_pending": 0, "items_done": 5}
    assert job["delta"] == {"items_pending": -5, "items_done": 5}
    segments = job["run_segments"]
    assert [(s["status"], s["state_before"], s["state_after"], s["delta"]) for s in segments] == [
        (
            "failed",
            {"items_pending": 5, "items_done": 0},
            {"items_pending": 3, "items_done": 2},
            {"items_pending": -2, "items_done": 2},
        ),
        (
            "completed",
            {"items_pending": 3, "items_done": 2},
            {"items_pending": 0, "items_done": 5},
            {"items_pending": -3, "items_done": 3},
        ),
    ]
    assert all(s["started_at"] <= s["ended_at"] for s in segments)


def test_a_failing_estimate_is_recorded_and_the_job_runs(engine: Engine) -> None:
    engine.register({**ITEMS, "steps": ITEMS["steps"][:1]})
    job = engine.drain(engine.create("items", {"broken_estimate": True}))
    assert job["status"] == "completed"
    assert job["expected_work"] == {"error": "RuntimeError: the estimate cannot be made"}
