"""/metrics reports the restarts of `jobmonitor up`'s supervisor (from its state file), and
nothing about them when the processes are not run by `up`."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.settings import reset_settings
from backend.supervision import state_path, write_state
from tests.api.conftest import World


def test_restarts_are_in_metrics(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOBMONITOR_DATA_DIR", str(tmp_path))
    reset_settings()
    assert "jobmonitor_process_restarts_total" not in world.a.viewer.get("/metrics").text
    write_state(
        state_path(tmp_path),
        {"worker": {"pid": 10, "restarts": 2}, "reaper": {"pid": 11, "restarts": 0}},
        {"postgres": {"restarts": 1}},
    )
    text = world.a.viewer.get("/metrics").text
    assert "# TYPE jobmonitor_process_restarts_total counter" in text
    assert 'jobmonitor_process_restarts_total{process="worker"} 2.0' in text
    assert 'jobmonitor_process_restarts_total{process="reaper"} 0.0' in text
    assert 'jobmonitor_process_restarts_total{process="postgres"} 1.0' in text
