"""The durable floor of bench/peers.py (bench/peers/rq_floor): its two statements per step do
what its README line says, on a real PostgreSQL: one claim per attempt under a fresh lease,
a completion only under that lease, with its events and its successors' attempt rows."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

PEERS = Path(__file__).resolve().parents[2] / "bench" / "peers"


@pytest.fixture
def floor(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(PEERS))  # its `workload` import
    spec = importlib.util.spec_from_file_location("floor_tasks", PEERS / "rq_floor" / "tasks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_claim_once_complete_only_under_the_lease(floor: Any, db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(floor.SCHEMA)
        conn.execute("INSERT INTO floor_attempts VALUES ('r-0', 'r', 'queued')")
        lease, other = uuid.uuid4(), uuid.uuid4()

        assert conn.execute(floor.CLAIM, {"id": "r-0", "lease": lease}).fetchone() == (1,)
        assert conn.execute(floor.CLAIM, {"id": "r-0", "lease": other}).fetchone() is None
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)  # LOCAL only

        nexts = ["r-1", "r-2"]
        foreign = conn.execute(floor.COMPLETE, {"id": "r-0", "lease": other, "nexts": nexts})
        assert foreign.fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM floor_attempts").fetchone() == (1,)

        own = conn.execute(floor.COMPLETE, {"id": "r-0", "lease": lease, "nexts": nexts})
        assert own.fetchone() == (1,)
        again = conn.execute(floor.COMPLETE, {"id": "r-0", "lease": lease, "nexts": nexts})
        assert again.fetchone() == (0,)

        rows = conn.execute("SELECT id, status FROM floor_attempts ORDER BY id").fetchall()
        assert rows == [("r-0", "completed"), ("r-1", "queued"), ("r-2", "queued")]
        events = conn.execute("SELECT attempt_id, kind FROM floor_events ORDER BY id").fetchall()
        assert events == [("r-0", "started"), ("r-0", "completed")]
